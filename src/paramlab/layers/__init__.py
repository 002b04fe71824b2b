"""One module per layer family; importing this package registers every rule.

Modules are discovered, not listed, so adding a family is adding a file.
"""

import importlib
import pkgutil

from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    LayerType,
    Shape,
    Weight,
    get_layer_type,
    register,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Args",
    "Context",
    "LayerResult",
    "LayerType",
    "Shape",
    "Weight",
    "get_layer_type",
    "register",
]
