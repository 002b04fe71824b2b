"""Test set-up: Keras on the torch backend with its config in a temp dir, never ~/.keras."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="paramlab-keras-"))
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    """``pytest --update-golden`` rewrites tests/golden/ from the current renderers (review
    the diff: a golden file changes only when an output was meant to change)."""
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/* instead of comparing with them")
