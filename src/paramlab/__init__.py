"""paramlab: exact parameter counts with the formula behind every number, and a lab that
shows how networks with more parameters than observations still fit and generalize."""

from paramlab.counting import count
from paramlab.errors import (
    ConfigError,
    DataError,
    MissingExtraError,
    ParamlabError,
    ShapeError,
    SpecError,
)
from paramlab.options import CountOptions
from paramlab.summary import LayerRow, Summary

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "CountOptions",
    "DataError",
    "LayerRow",
    "MissingExtraError",
    "ParamlabError",
    "ShapeError",
    "SpecError",
    "Summary",
    "__version__",
    "count",
]
