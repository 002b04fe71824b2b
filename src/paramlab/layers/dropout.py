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
    non_negative_number,
    optional,
    register,
    show_shape,
    unit_interval,
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


# Keras checks rates and the noise stddev at construction: a float from 0 to 1.
_RATE = Param("rate", unit_interval)
_noise("Dropout", [_RATE, Param("noise_shape", anything, None)])
_noise("AlphaDropout", [_RATE, Param("noise_shape", anything, None)])
_noise("GaussianDropout", [_RATE])
_noise("GaussianNoise", [Param("stddev", unit_interval)])
_noise("ActivityRegularization",
       [Param("l1", non_negative_number, 0.0), Param("l2", non_negative_number, 0.0)])
_noise("SpatialDropout1D", [_RATE], rank=1)
for _rank in (2, 3):
    _noise(f"SpatialDropout{_rank}D",
           [_RATE, Param("data_format", optional(choice("channels_last", "channels_first")),
                         None)], rank=_rank)
