"""Pooling, local and global: no weights; only the output shape changes.

MACs are 0 by the module convention (comparisons and additions are not multiply-adds).
"""

from __future__ import annotations

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    boolean,
    choice,
    conv_output_length,
    ntuple,
    optional,
    register,
    show_shape,
)

_DATA_FORMAT = Param("data_format", optional(choice("channels_last", "channels_first")), None)


def _check_rank(x: Shape, rank: int, layer: str) -> None:
    if len(x) != rank + 1:
        raise ShapeError(
            f"{layer} expects inputs of rank {rank + 2} (batch, {rank} spatial axes, channels); "
            f"received input shape {show_shape(x)}"
        )


def _make_pool(kind: str, rank: int) -> None:
    name = f"{kind}Pooling{rank}D"
    short = f"{'Max' if kind == 'Max' else 'Avg'}Pool{rank}D"

    @register(
        name,
        short,
        params=[
            Param("pool_size", ntuple(rank), 2),
            Param("strides", optional(ntuple(rank)), None),
            Param("padding", choice("valid", "same"), "valid"),
            _DATA_FORMAT,
        ],
    )
    def pool(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Windows of ``pool_size`` every ``strides`` (default: the pool size)."""
        (x,) = inputs
        _check_rank(x, rank, name)
        first = a.data_format == "channels_first"
        spatial, channels = (x[1:], x[0]) if first else (x[:-1], x[-1])
        strides = a.strides or a.pool_size
        out = tuple(
            conv_output_length(d, k, a.padding, s)
            for d, k, s in zip(spatial, a.pool_size, strides, strict=True)
        )
        if any(d is not None and d <= 0 for d in out):
            raise ShapeError(
                f"{name}: pool_size {a.pool_size} with padding {a.padding!r} does not fit "
                f"input {show_shape(x)}"
            )
        return LayerResult((channels, *out) if first else (*out, channels))


def _make_global(kind: str, rank: int) -> None:
    name = f"Global{kind}Pooling{rank}D"
    short = f"Global{'Max' if kind == 'Max' else 'Avg'}Pool{rank}D"

    @register(name, short, params=[_DATA_FORMAT, Param("keepdims", boolean, False)])
    def global_pool(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """One value per channel over all spatial axes."""
        (x,) = inputs
        _check_rank(x, rank, name)
        first = a.data_format == "channels_first"
        channels = x[0] if first else x[-1]
        if not a.keepdims:
            return LayerResult((channels,))
        ones = (1,) * rank
        return LayerResult((channels, *ones) if first else (*ones, channels))


for _kind in ("Max", "Average"):
    for _rank in (1, 2, 3):
        _make_pool(_kind, _rank)
        _make_global(_kind, _rank)
