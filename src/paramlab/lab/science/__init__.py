"""Pure science for the lab: functions on arrays that compute a bound, a code length, a
pruning mask or a capacity measure, each citing the paper (and the reference code) it follows.
They know nothing of run stores, the CLI or plots, so they can be tested on arrays against
closed forms, simulations and published numbers, and an experiment only orchestrates them.
They import numpy, scipy, scikit-learn and ``paramlab.errors``, nothing above them in the lab.
"""
