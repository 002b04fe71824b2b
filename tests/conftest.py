"""Test set-up: Keras on the torch backend with its config in a temp dir, never ~/.keras."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="paramlab-keras-"))
os.environ.setdefault("MPLBACKEND", "Agg")
