"""Pooling: Max/AveragePooling1D/2D/3D, their Global and Adaptive variants — no weights, 0 MACs.

They matter to a count through their output shapes: a pooling layer before Flatten divides
the next Dense layer's parameters by the pool area.
"""

from __future__ import annotations

from paramlab.layers.base import (
    REQUIRED,
    Args,
    Context,
    LayerResult,
    Param,
    Rule,
    Shape,
    boolean,
    choice,
    data_format,
    expect_rank,
    join_channels,
    ntuple,
    optional,
    register,
    split_channels,
    window_output,
)


def _pooling_params(rank: int, mode: str) -> list[Param]:
    # Keras 3 gives MaxPoolingND a default pool size of 2; AveragePoolingND requires one.
    default = (2,) * rank if mode == "Max" else REQUIRED
    return [
        Param("pool_size", ntuple(rank), default),
        Param("strides", optional(ntuple(rank)), None),
        Param("padding", choice("valid", "same"), "valid"),
        Param("data_format", data_format, "channels_last"),
    ]


def _pooling_rule(rank: int, mode: str) -> Rule:
    layer = f"{mode}Pooling{rank}D"

    def pooling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Slides the pool window over the spatial axes (strides default to pool_size)."""
        (x,) = inputs
        expect_rank(x, rank, layer, a.data_format)
        spatial, channels = split_channels(x, a.data_format)
        strides = a.strides or a.pool_size
        out = window_output(layer, x, spatial, a.pool_size, strides, a.padding, what="pool")
        return LayerResult(join_channels(out, channels, a.data_format))

    return pooling


def _global_rule(rank: int, mode: str) -> Rule:
    layer = f"Global{mode}Pooling{rank}D"

    def global_pooling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """One value per channel; ``keepdims`` keeps the spatial axes as 1s."""
        (x,) = inputs
        expect_rank(x, rank, layer, a.data_format)
        _, channels = split_channels(x, a.data_format)
        if not a.keepdims:
            return LayerResult((channels,))
        return LayerResult(join_channels((1,) * rank, channels, a.data_format))

    return global_pooling


_GLOBAL_PARAMS = [
    Param("data_format", data_format, "channels_last"),
    Param("keepdims", boolean, False),
]

for _rank in (1, 2, 3):
    register(f"MaxPooling{_rank}D", f"MaxPool{_rank}D", params=_pooling_params(_rank, "Max"))(
        _pooling_rule(_rank, "Max")
    )
    register(
        f"AveragePooling{_rank}D", f"AvgPool{_rank}D", params=_pooling_params(_rank, "Average")
    )(_pooling_rule(_rank, "Average"))
    register(f"GlobalMaxPooling{_rank}D", f"GlobalMaxPool{_rank}D", params=_GLOBAL_PARAMS)(
        _global_rule(_rank, "Max")
    )
    register(f"GlobalAveragePooling{_rank}D", f"GlobalAvgPool{_rank}D", params=_GLOBAL_PARAMS)(
        _global_rule(_rank, "Average")
    )


def _adaptive_rule(rank: int, mode: str) -> Rule:
    layer = f"Adaptive{mode}Pooling{rank}D"

    def adaptive_pooling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Pools to a fixed ``output_size`` whatever the input's spatial size."""
        (x,) = inputs
        expect_rank(x, rank, layer, a.data_format)
        _, channels = split_channels(x, a.data_format)
        return LayerResult(join_channels(a.output_size, channels, a.data_format))

    return adaptive_pooling


for _rank in (1, 2, 3):
    for _mode in ("Average", "Max"):
        register(f"Adaptive{_mode}Pooling{_rank}D",
                 params=[Param("output_size", ntuple(_rank)),
                         Param("data_format", data_format, "channels_last")])(
            _adaptive_rule(_rank, _mode))
