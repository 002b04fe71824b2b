"""``--quant``, ``--kv-dtype`` and ``--fit`` for one counted model: the data the renderers
draw (:mod:`paramlab.render.quant`), computed from the summary's
:class:`~paramlab.quant.source.QuantSource` (attached by the Hugging Face adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paramlab.quant.fit import (
    FitAnswer,
)
from paramlab.quant.size import QuantSize


@dataclass(frozen=True)
class QuantReport:
    """Sizes per requested format, the checkpoint's own, the KV cache and the fit."""

    sizes: tuple[QuantSize, ...]
    stored: QuantSize | None
    kv_dtype: str
    kv_bytes_per_token: int | None
    kv_bytes_at_context: int | None  # at --context × --batch-size, when a context is given
    fit_budget: int | None
    fit_mode: str
    fit: tuple[FitAnswer, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: ``quantized[TYPE]`` (bytes, bits_per_weight, by_type, notes),
        ``kv_cache``, ``quant_notes``, and ``stored_quantization``/``fit`` when present."""
        data: dict[str, Any] = {
            "quantized": {q.name: q.to_dict() for q in self.sizes},
            "kv_cache": {"dtype": self.kv_dtype, "bytes_per_token": self.kv_bytes_per_token,
                         "bytes": self.kv_bytes_at_context},
            "quant_notes": list(self.notes)}
        if self.stored is not None:
            data["stored_quantization"] = self.stored.to_dict()
        if self.fit_budget is not None:
            data["fit"] = {"budget": self.fit_budget, "for": self.fit_mode,
                           "answers": [a.to_dict() for a in self.fit]}
        return data
