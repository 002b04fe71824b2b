"""Regularization layers active only in training: they change values, never shapes or counts."""

from __future__ import annotations

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    anything,
    choice,
    number,
    optional,
    register,
    show_shape,
)


def _noise(name: str, params: list[Param], rank: int | None = None) -> None:
    @register(name, params=params)
    def rule(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        (x,) = inputs
        if rank is not None and len(x) != rank + 1:
            raise ShapeError(
                f"{name} expects inputs of rank {rank + 2}; received {show_shape(x)}"
            )
        return LayerResult(x)


_RATE = Param("rate", number)
_noise("Dropout", [_RATE, Param("noise_shape", anything, None)])
_noise("AlphaDropout", [_RATE, Param("noise_shape", anything, None)])
_noise("GaussianDropout", [_RATE])
_noise("GaussianNoise", [Param("stddev", number)])
_noise("ActivityRegularization", [Param("l1", number, 0.0), Param("l2", number, 0.0)])
_noise("SpatialDropout1D", [_RATE], rank=1)
for _rank in (2, 3):
    _noise(f"SpatialDropout{_rank}D",
           [_RATE, Param("data_format", optional(choice("channels_last", "channels_first")),
                         None)], rank=_rank)
