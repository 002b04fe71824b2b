"""The lab's science: pure functions on arrays — theory curves, fits, alignment, loss
barriers, spectra, bounds — with no store, no command line and no plots (SciPy's
``scipy.stats`` functions take arrays and return arrays). Each is tested on arrays against
theory or published results; experiments call them, reports draw what they return.

Imports only numpy/scipy/scikit-learn/torch, :mod:`paramlab.errors`, :mod:`paramlab.fields`
and the engine's vocabulary — never the store, the experiments or the report.
"""
