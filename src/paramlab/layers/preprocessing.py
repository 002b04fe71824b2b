"""Preprocessing and augmentation layers: Keras counts none of them as weights except
Normalization (normalization.py) and STFTSpectrogram, whose Fourier kernels are variables.

* Augmentation (RandomFlip, RandomRotation, …, RandAugment, MixUp): identity at inference,
  random transforms in training; the shape never changes, nothing is learned.
* Resizing, CenterCrop, RandomCrop: images to ``height × width``, channels kept.
* Encoders and lookups (CategoryEncoding, Discretization, Hashing, HashedCrossing,
  StringLookup, IntegerLookup, TextVectorization): 0 parameters. The lookups keep their
  vocabulary in a TensorFlow table and their tf-idf weights in ``tf.Variable``s that Keras
  does not track, so ``count_params()`` is 0. Output shapes follow each layer's
  ``compute_output_shape`` (Keras 3.15): ``int`` mode keeps the shape, the encodings replace
  or append an axis of ``depth`` (the number of bins or the vocabulary size).

Shapes here are computed on the full shape (batch axis first), exactly as Keras'
``compute_output_shape`` does, then the batch axis is dropped.
"""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    REQUIRED,
    Args,
    Context,
    LayerResult,
    LayerSpec,
    Param,
    Shape,
    Weight,
    anything,
    apply_layer,
    boolean,
    choice,
    conv_output_length,
    data_format,
    fmt,
    known,
    optional,
    positive_int,
    register,
    show_shape,
)

Full = tuple[int | None, ...]

# ----------------------------------------------------------------------------- augmentation
# Keras' constructor arguments, in positional order (REQUIRED where Keras has no default);
# none of them changes a shape or a count.
_AUGMENTATION: dict[str, tuple[tuple[str, Any], ...]] = {
    "RandomFlip": (("mode", "horizontal_and_vertical"),),
    "RandomRotation": (("factor", REQUIRED), ("fill_mode", "reflect"),
                       ("interpolation", "bilinear"), ("seed", None), ("fill_value", 0.0)),
    "RandomZoom": (("height_factor", REQUIRED), ("width_factor", None),
                   ("fill_mode", "reflect"), ("interpolation", "bilinear"), ("seed", None),
                   ("fill_value", 0.0)),
    "RandomTranslation": (("height_factor", REQUIRED), ("width_factor", REQUIRED),
                          ("fill_mode", "reflect"), ("interpolation", "bilinear"),
                          ("seed", None), ("fill_value", 0.0)),
    "RandomContrast": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomBrightness": (("factor", REQUIRED), ("value_range", (0, 255))),
    "AugMix": (("value_range", (0, 255)), ("num_chains", 3), ("chain_depth", 3),
               ("factor", 0.3), ("alpha", 1.0), ("all_ops", True),
               ("interpolation", "bilinear")),
    "AutoContrast": (("value_range", (0, 255)),),
    "ContrastLimitedAdaptiveHistogramEqualization": (
        ("value_range", (0, 255)), ("clip_limit", 4.0), ("tile_grid_size", (8, 8))),
    "CutMix": (("factor", 1.0),),
    "Equalization": (("value_range", (0, 255)), ("bins", 256)),
    "MixUp": (("alpha", 0.2),),
    "RandAugment": (("value_range", (0, 255)), ("num_ops", 2), ("factor", 0.5),
                    ("interpolation", "bilinear")),
    "RandomColorDegeneration": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomColorJitter": (("value_range", (0, 255)), ("brightness_factor", None),
                          ("contrast_factor", None), ("saturation_factor", None),
                          ("hue_factor", None)),
    "RandomElasticTransform": (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"),
                               ("fill_mode", "reflect"), ("fill_value", 0.0),
                               ("value_range", (0, 255))),
    "RandomErasing": (("factor", 1.0), ("scale", (0.02, 0.33)), ("fill_value", None),
                      ("value_range", (0, 255))),
    "RandomGaussianBlur": (("factor", 1.0), ("kernel_size", 3), ("sigma", 1.0),
                           ("value_range", (0, 255))),
    "RandomGrayscale": (("factor", 0.5),),
    "RandomHue": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomInvert": (("factor", 1.0), ("value_range", (0, 255))),
    "RandomPerspective": (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"),
                          ("fill_value", 0.0)),
    "RandomPosterization": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomSaturation": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomSharpness": (("factor", REQUIRED), ("value_range", (0, 255))),
    "RandomShear": (("x_factor", 0.0), ("y_factor", 0.0), ("interpolation", "bilinear"),
                    ("fill_mode", "reflect"), ("fill_value", 0.0)),
    "Solarization": (("addition_factor", 0.0), ("threshold_factor", 0.0),
                     ("value_range", (0, 255))),
    "MaxNumBoundingBoxes": (("max_number", REQUIRED), ("fill_value", -1)),
}
# Accepted by every image preprocessing layer (BaseImagePreprocessingLayer).
_IMAGE_COMMON = (Param("bounding_box_format", anything, None),
                 Param("data_format", optional(data_format), None))


def _augmentation(name: str, params: tuple[tuple[str, Any], ...]) -> None:
    aliases = ("CLAHE",) if name.startswith("ContrastLimited") else ()

    @register(name, *aliases,
              params=[*(Param(p, anything, d) for p, d in params), *_IMAGE_COMMON])
    def rule(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Random in training, the identity at inference: same shape, nothing learned."""
        return LayerResult(inputs[0])


for _name, _params in _AUGMENTATION.items():
    _augmentation(_name, _params)


def _resize_params(*extra: Param) -> list[Param]:
    return [Param("height", positive_int), Param("width", positive_int), *extra,
            *_IMAGE_COMMON]


def _image_to(a: Args, inputs: list[Shape], layer: str) -> LayerResult:
    """Images to ``height × width``, any channel count, channels last or first."""
    (x,) = inputs
    if len(x) != 3:
        raise ShapeError(f"{layer} expects images of rank 4 (batch, height, width, channels); "
                         f"received input shape {show_shape(x)}")
    if a.data_format == "channels_first":
        return LayerResult((x[0], a.height, a.width))
    return LayerResult((a.height, a.width, x[-1]))


@register("Resizing", params=_resize_params(
    Param("interpolation", anything, "bilinear"), Param("crop_to_aspect_ratio", boolean, False),
    Param("pad_to_aspect_ratio", boolean, False), Param("fill_mode", anything, "constant"),
    Param("fill_value", anything, 0.0), Param("antialias", boolean, False)))
def resizing(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Interpolates every image to height × width."""
    return _image_to(a, inputs, "Resizing")


@register("CenterCrop", params=_resize_params())
def center_crop(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The central height × width window (resized up when the image is smaller)."""
    return _image_to(a, inputs, "CenterCrop")


@register("RandomCrop", params=_resize_params(Param("seed", anything, None)))
def random_crop(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """A random height × width window in training, the central one at inference."""
    return _image_to(a, inputs, "RandomCrop")


# ----------------------------------------------------------------------------- encoders


def _full(x: Shape) -> Full:
    return (None, *x)


def _batchless(full: Full) -> Shape:
    return tuple(full[1:])


_ENCODING = ("int", "one_hot", "multi_hot", "count", "tf_idf")


@register("CategoryEncoding", params=[
    Param("num_tokens", positive_int, None),
    Param("output_mode", choice("one_hot", "multi_hot", "count"), "multi_hot"),
    Param("sparse", boolean, False),
])
def category_encoding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Integer ids to ``num_tokens``-wide vectors: one_hot appends the axis (or replaces a
    last axis of size 1); multi_hot and count replace the last axis."""
    if a.num_tokens is None:
        raise ShapeError("CategoryEncoding needs num_tokens, the number of token ids")
    x = _full(inputs[0])
    n = a.num_tokens
    if a.output_mode == "one_hot" and x[-1] != 1:
        return LayerResult(_batchless((*x, n)))
    return LayerResult(_batchless((*x[:-1], n)))


@register("Discretization", params=[
    Param("bin_boundaries", anything, None),
    Param("num_bins", optional(positive_int), None),
    Param("epsilon", anything, 0.01),
    Param("output_mode", choice("int", "one_hot", "multi_hot", "count"), "int"),
    Param("sparse", boolean, False),
])
def discretization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Values to bucket ids: len(bin_boundaries) + 1 buckets (or num_bins before adapt)."""
    x = _full(inputs[0])
    if a.output_mode == "int":
        return LayerResult(inputs[0])
    if a.bin_boundaries is None and a.num_bins is None:
        raise ShapeError("Discretization needs bin_boundaries or num_bins to know its depth")
    depth = len(a.bin_boundaries) + 1 if a.bin_boundaries is not None else a.num_bins
    if a.output_mode == "one_hot":
        out = (*x[:-1], depth) if x[-1] == 1 and len(x) > 1 else (*x, depth)
        return LayerResult(_batchless(out))
    return LayerResult(_batchless((x[0], *x[2:], depth) if len(x) >= 2 else (depth,)))


@register("Hashing", params=[
    Param("num_bins", positive_int),
    Param("mask_value", anything, None),
    Param("salt", anything, None),
    Param("output_mode", choice("int", "one_hot", "multi_hot", "count"), "int"),
    Param("sparse", boolean, False),
])
def hashing(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Values to ``num_bins`` hash buckets; the encodings replace the last axis."""
    if a.output_mode == "int":
        return LayerResult(inputs[0])
    return LayerResult(_batchless((*_full(inputs[0])[:-1], a.num_bins)))


@register("HashedCrossing", params=[
    Param("num_bins", positive_int),
    Param("output_mode", choice("int", "one_hot"), "int"),
    Param("sparse", boolean, False),
], min_inputs=2, max_inputs=2)
def hashed_crossing(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Two features crossed into ``num_bins`` buckets."""
    first, second = (_full(x) for x in inputs)
    if first[-1] != second[-1]:
        raise ShapeError("HashedCrossing needs two inputs of the same shape; received "
                         f"{show_shape(inputs[0])} and {show_shape(inputs[1])}")
    if a.output_mode == "int":
        return LayerResult(inputs[0])
    if first[-1] != 1:
        return LayerResult(_batchless((*first, a.num_bins)))
    return LayerResult(_batchless((*first[:-1], a.num_bins)))


_LOOKUP_NOTE = ("the vocabulary lives in a lookup table, not in Keras variables: 0 "
                "parameters, as Keras counts it")


def _lookup_params(oov_token: Any, mask: str, *extra: Param) -> list[Param]:
    return [
        Param("max_tokens", optional(positive_int), None),
        Param("num_oov_indices", anything, 1),
        Param(mask, anything, None),
        Param("oov_token", anything, oov_token),
        Param("vocabulary", anything, None),
        *extra,
        Param("idf_weights", anything, None),
        Param("invert", boolean, False),
        Param("output_mode", choice(*_ENCODING), "int"),
        Param("sparse", boolean, False),
        Param("pad_to_max_tokens", boolean, False),
        Param("encoding", anything, "utf-8"),
        Param("oov_method", anything, "floormod"),
        Param("salt", anything, None),
        Param("vocabulary_size", optional(positive_int), None),  # written by get_config
    ]


def _depth(a: Args) -> int | None:
    """Width of the encoded output: max_tokens when padded to it, else the vocabulary size
    (Keras writes ``vocabulary_size``; from a vocabulary list: its tokens, the OOV indices
    and the mask token)."""
    if a.pad_to_max_tokens and a.max_tokens:
        return int(a.max_tokens)
    if a.vocabulary_size is not None:
        return int(a.vocabulary_size)
    if isinstance(a.vocabulary, (list, tuple)):
        mask = a.get("mask_token", a.get("mask_value"))
        return len(a.vocabulary) + int(a.num_oov_indices) + (mask is not None)
    return None


def _lookup_shape(a: Args, x: Full) -> Full:
    """IndexLookup.compute_output_shape."""
    if a.output_mode == "int":
        return x
    depth = _depth(a)
    if a.output_mode == "one_hot":
        return (*x[:-1], depth) if len(x) > 1 and x[-1] == 1 else (*x, depth)
    return (*x[:-1], depth)


def _lookup(a: Args, inputs: list[Shape]) -> LayerResult:
    return LayerResult(_batchless(_lookup_shape(a, _full(inputs[0]))), note=_LOOKUP_NOTE)


@register("StringLookup", params=_lookup_params("[UNK]", "mask_token"))
def string_lookup(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Strings to vocabulary indices (or their encodings)."""
    return _lookup(a, inputs)


@register("IntegerLookup", params=_lookup_params(
    -1, "mask_token", Param("vocabulary_dtype", anything, "int64")))
def integer_lookup(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Integer ids to vocabulary indices (or their encodings)."""
    return _lookup(a, inputs)


@register("TextVectorization", params=[
    Param("max_tokens", optional(positive_int), None),
    Param("standardize", anything, "lower_and_strip_punctuation"),
    Param("split", anything, "whitespace"),
    Param("ngrams", anything, None),
    Param("output_mode", choice(*_ENCODING), "int"),
    Param("output_sequence_length", optional(positive_int), None),
    Param("pad_to_max_tokens", boolean, False),
    Param("vocabulary", anything, None),
    Param("idf_weights", anything, None),
    Param("sparse", boolean, False),
    Param("ragged", boolean, False),
    Param("encoding", anything, "utf-8"),
    Param("vocabulary_size", optional(positive_int), None),
])
def text_vectorization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Strings to token ids: ``int`` gives (output_sequence_length,), the encodings a
    vocabulary-wide vector (TextVectorization.compute_output_shape)."""
    if a.output_mode == "int":
        return LayerResult((a.output_sequence_length,), note=_LOOKUP_NOTE)
    x = _full(inputs[0])
    # split=None keeps one string per row; a split adds an axis of unknown token count
    x = ((*x, 1) if len(x) <= 1 else x) if a.split is None else (*x, None)
    lookup = Args(a, num_oov_indices=1, mask_token="")
    return LayerResult(_batchless(_lookup_shape(lookup, x)), note=_LOOKUP_NOTE)


# ----------------------------------------------------------------------------- audio


@register("STFTSpectrogram", params=[
    Param("mode", choice("log", "magnitude", "psd", "real", "imag", "angle", "stft"), "log"),
    Param("frame_length", positive_int, 256),
    Param("frame_step", optional(positive_int), None),
    Param("fft_length", optional(positive_int), None),
    Param("window", anything, "hann"),
    Param("periodic", boolean, False),
    Param("scaling", anything, "density"),
    Param("padding", choice("valid", "same"), "valid"),
    Param("expand_dims", boolean, False),
    Param("data_format", data_format, "channels_last"),
])
def stft_spectrogram(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The short-time Fourier transform as a strided convolution with (trainable) Fourier
    kernels: a real and an imaginary kernel of frame_length × 1 × (fft_length/2 + 1)."""
    (x,) = inputs
    if len(x) != 2:
        raise ShapeError("STFTSpectrogram expects inputs of rank 3 (batch, time, channels); "
                         f"received input shape {show_shape(x)}")
    first = a.data_format == "channels_first"
    channels, time = (x[0], x[1]) if first else (x[1], x[0])
    if a.fft_length is not None and a.fft_length < a.frame_length:
        raise ShapeError(f"STFTSpectrogram needs fft_length >= frame_length. Received: "
                         f"fft_length={a.fft_length}, frame_length={a.frame_length}")
    step = a.frame_step or a.frame_length // 2
    fft = a.fft_length or 2 ** math.ceil(math.log2(a.frame_length))
    bins = fft // 2 + 1
    kernel = (a.frame_length, 1, bins)
    weights = [Weight(f"{part}_kernel", kernel) for part in ("real", "imag")
               if not (part == "real" and a.mode == "imag")
               and not (part == "imag" and a.mode == "real")]
    freq = bins * 2 if a.mode == "stft" else bins
    steps = conv_output_length(time, a.frame_length, a.padding, step)
    c = known(channels, "STFTSpectrogram", "channel axis", x)
    out: Shape
    if a.expand_dims:
        out = (c, steps, freq) if first else (steps, freq, c)
    else:
        out = (freq * c, steps) if first else (steps, freq * c)
    size = math.prod(kernel)
    formula = f"{len(weights)} × {fmt(a.frame_length)} × {fmt(bins)} = {fmt(len(weights) * size)}"
    return LayerResult(out, weights, formula)


@register("MelSpectrogram", params=[
    Param("fft_length", positive_int, 2048),
    Param("sequence_stride", positive_int, 512),
    Param("sequence_length", optional(positive_int), None),
    Param("window", anything, "hann"),
    Param("sampling_rate", anything, 16000),
    Param("num_mel_bins", positive_int, 128),
    Param("min_freq", anything, 20.0),
    Param("max_freq", anything, None),
    Param("power_to_db", boolean, True),
    Param("top_db", anything, 80.0),
    Param("mag_exp", anything, 2.0),
    Param("min_power", anything, 1e-10),
    Param("ref_power", anything, 1.0),
])
def mel_spectrogram(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Audio (samples,) to (num_mel_bins, frames); the mel filter bank is a constant.

    Frames as Keras' compute_output_shape counts them: (samples + stride + 1) // stride.
    """
    (x,) = inputs
    if len(x) != 1:
        raise ShapeError("MelSpectrogram expects inputs of rank 2 (batch, samples); received "
                         f"input shape {show_shape(x)}")
    frames = None if x[0] is None else (x[0] + a.sequence_stride + 1) // a.sequence_stride
    return LayerResult((a.num_mel_bins, frames))


# ----------------------------------------------------------------------------- Pipeline


def _layers(value: Any) -> tuple[LayerSpec, ...]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, LayerSpec) for v in value):
        return tuple(value)
    raise ValueError("a list of layers")


@register("Pipeline", params=[Param("layers", _layers)])
def pipeline(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Its layers one after the other (a preprocessing chain, usually weightless)."""
    shape: Shape | tuple[Shape, ...] = inputs[0]
    weights: list[Weight] = []
    formulas: list[str] = []
    for index, spec in enumerate(a.layers):
        if shape and isinstance(shape[0], tuple):
            raise ShapeError("Pipeline: a layer inside has several outputs")
        _, _, inner = apply_layer(spec, [shape], ctx, f" (Pipeline layer {index})")  # type: ignore[list-item]
        shape = inner.output_shape
        weights += inner.weights
        if inner.formula:
            formulas.append(inner.formula)
    return LayerResult(shape, weights, " + ".join(formulas))
