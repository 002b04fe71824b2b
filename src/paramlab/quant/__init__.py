"""Sizes at the real bits per weight (``--quant``), quantized KV caches and the ``--fit``
solver: pure arithmetic returning frozen dataclasses; rendering lives in
:mod:`paramlab.render`."""
