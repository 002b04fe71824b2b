"""One typed options object for a count: what ``paramlab.count`` accepts as keywords and what
the CLI's flags become, carried into the core and the adapters instead of an argparse
namespace (so the core never depends on how the command line spells an option)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


@dataclass(frozen=True)
class CountOptions:
    """Every setting of a count; the defaults are the CLI's."""

    convention: str | None = None  # None: the adapter's own (keras for specs, torch for modules)
    dtype: str = "float32"  # bytes per parameter for the sizes shown
    observations: int | None = None  # training rows: parameters per observation
    features: int | None = None  # input values per observation
    other_convention: bool = True  # also count under the other convention (--no-other: False)
    args: str | dict[str, Any] | None = None  # keyword arguments of a PyTorch factory (JSON)
    input_size: Any = None  # PyTorch forward on the meta device: (1, 3, 224, 224) or "1,3,224,224"
    dtypes: Sequence[Any] | None = None  # probe input dtypes, torchinfo's `dtypes` (--input-dtype)
    depth: int | None = None  # rows nested this deep (modules, nested models, blocks)
    base: bool = False  # Hugging Face configs: the base model rather than the head class
    memory: bool = False  # attach the training/serving memory report
    flops: bool = False  # attach the FLOPs report
    batch_size: int = 1  # batch size of the memory and FLOPs totals
    context: int | None = None  # language models: KV-cache memory at this many tokens

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> CountOptions:
        """The CLI's flags, by name; ``--no-other`` and ``--data`` have their own spelling."""
        values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls)
                  if hasattr(ns, f.name)}
        values["other_convention"] = not getattr(ns, "no_other", False)
        if getattr(ns, "data", None) is not None:
            values["observations"], values["features"] = ns.data
        return cls(**values)

    def replace(self, **changes: Any) -> CountOptions:
        return dataclasses.replace(self, **changes)
