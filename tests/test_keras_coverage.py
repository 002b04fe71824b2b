"""Contract over every layer class Keras 3 exports in ``keras.layers``.

Each class is either built here with default-ish arguments on a small input — and then its
JSON (``model.to_json()``, read without Keras) and the live model (``paramlab.count(model)``)
must give Keras' own total / trainable / non-trainable counts and Keras' output shape — or it
is in LEFT_OUT with the reason. A class Keras exports that is in neither list fails the test,
so a new Keras release forces a decision. All models are built in one loop (one report).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

import paramlab
from paramlab.errors import ParamlabError
from paramlab.layers.base import get_layer_type

keras = pytest.importorskip("keras")
L = keras.layers

IMG = (8, 8, 3)
SEQ = (5, 3)
VOL = (6, 6, 6, 2)


def _cases() -> dict[str, list[tuple[Callable[[], Any], Any]]]:
    """Class name → (layer factory, input shape or list of input shapes) cases."""
    c: dict[str, list[tuple[Callable[[], Any], Any]]] = {}

    def add(name: str, factory: Callable[[], Any], shape: Any) -> None:
        c.setdefault(name, []).append((factory, shape))

    for name in ("Activation",):
        add(name, lambda: L.Activation("relu"), (4,))
    for name in ("ReLU", "LeakyReLU", "ELU", "Softmax", "UnitNormalization", "Masking",
                 "Identity", "Flatten", "LayerNormalization", "BatchNormalization",
                 "RMSNormalization", "Normalization", "PReLU"):
        add(name, getattr(L, name), (5, 4))
    add("LayerNormalization", lambda: L.LayerNormalization(axis=(-1, -2)), (5, 4))
    add("LayerNormalization", lambda: L.LayerNormalization(rms_scaling=True), (5, 4))
    add("RMSNormalization", lambda: L.RMSNormalization(axis=(-1, 1)), (5, 4))
    add("Normalization", lambda: L.Normalization(axis=(-1, 1)), (5, 4))
    add("BatchNormalization", lambda: L.BatchNormalization(renorm=True), (5, 4))
    add("GroupNormalization", lambda: L.GroupNormalization(2), (5, 4))
    add("Dense", lambda: L.Dense(3), (4,))
    add("EinsumDense", lambda: L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c"), (3,))
    add("EinsumDense", lambda: L.EinsumDense("abc,cde->abde", output_shape=(5, 2, 3),
                                             bias_axes="de"), (5, 4))
    add("EinsumDense", lambda: L.EinsumDense("...b,bc->...c", output_shape=4), (2, 5, 3))
    add("EinsumDense", lambda: L.EinsumDense("ab...,bc->ac...", output_shape=(4, None),
                                             bias_axes="c"), (3, 2))
    add("EinsumDense", lambda: L.EinsumDense("ab,bc->ac", output_shape=4, lora_rank=2), (3,))
    add("Embedding", lambda: L.Embedding(10, 4), (3,))
    add("ReversibleEmbedding", lambda: L.ReversibleEmbedding(10, 4), (3,))
    add("ReversibleEmbedding", lambda: L.ReversibleEmbedding(10, 4, tie_weights=False), (3,))
    add("Lambda", lambda: L.Lambda(lambda x: x[:, :2] * 2), (5, 3))
    add("Lambda", lambda: L.Lambda(lambda x: x, output_shape=(5, 3)), (5, 3))
    for name in ("Dropout", "AlphaDropout", "GaussianDropout"):
        add(name, lambda name=name: getattr(L, name)(0.2), (4,))
    add("GaussianNoise", lambda: L.GaussianNoise(0.1), (4,))
    add("ActivityRegularization", L.ActivityRegularization, (4,))
    add("SpatialDropout1D", lambda: L.SpatialDropout1D(0.1), SEQ)
    add("SpatialDropout2D", lambda: L.SpatialDropout2D(0.1), IMG)
    add("SpatialDropout3D", lambda: L.SpatialDropout3D(0.1), VOL)
    for rank, shape in ((1, (16, 3)), (2, IMG), (3, VOL)):
        d = f"{rank}D"
        add(f"Conv{d}", lambda d=d: getattr(L, f"Conv{d}")(4, 3), shape)
        add(f"Conv{d}Transpose", lambda d=d: getattr(L, f"Conv{d}Transpose")(4, 3), shape)
        for mode in ("Max", "Average"):
            add(f"{mode}Pooling{d}", lambda d=d, m=mode: getattr(L, f"{m}Pooling{d}")(2), shape)
            add(f"Global{mode}Pooling{d}", lambda d=d, m=mode: getattr(L, f"Global{m}Pooling{d}")(),
                shape)
            add(f"Adaptive{mode}Pooling{d}",
                lambda d=d, m=mode: getattr(L, f"Adaptive{m}Pooling{d}")(2), shape)
        add(f"ZeroPadding{d}", lambda d=d: getattr(L, f"ZeroPadding{d}")(), shape)
        add(f"Cropping{d}", lambda d=d: getattr(L, f"Cropping{d}")(1), shape)
        add(f"UpSampling{d}", lambda d=d: getattr(L, f"UpSampling{d}")(), shape)
    for d, shape in (("1D", (16, 3)), ("2D", IMG)):
        add(f"DepthwiseConv{d}", lambda d=d: getattr(L, f"DepthwiseConv{d}")(3), shape)
        add(f"SeparableConv{d}", lambda d=d: getattr(L, f"SeparableConv{d}")(4, 3), shape)
    add("Reshape", lambda: L.Reshape((-1,)), (5, 4))
    add("Permute", lambda: L.Permute((2, 1)), (5, 4))
    add("RepeatVector", lambda: L.RepeatVector(3), (4,))
    for name in ("SimpleRNN", "LSTM", "GRU"):
        add(name, lambda name=name: getattr(L, name)(4), SEQ)
    add("ConvLSTM1D", lambda: L.ConvLSTM1D(2, 3), (4, 8, 2))
    add("ConvLSTM2D", lambda: L.ConvLSTM2D(2, 3), (3, 6, 6, 2))
    add("ConvLSTM3D", lambda: L.ConvLSTM3D(2, 3), (2, 5, 5, 5, 1))
    add("Bidirectional", lambda: L.Bidirectional(L.LSTM(3)), SEQ)
    add("TimeDistributed", lambda: L.TimeDistributed(L.Dense(2)), SEQ)
    add("RNN", lambda: L.RNN(L.LSTMCell(4)), SEQ)
    add("RNN", lambda: L.RNN([L.SimpleRNNCell(4), L.GRUCell(3)], return_sequences=True), SEQ)
    add("RNN", lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(2), L.GRUCell(3, reset_after=False)]),
                             return_state=True), SEQ)
    add("Bidirectional", lambda: L.Bidirectional(L.RNN(L.GRUCell(3), return_sequences=True)),
        SEQ)
    add("SpectralNormalization", lambda: L.SpectralNormalization(L.Dense(3)), (4,))
    add("SpectralNormalization", lambda: L.SpectralNormalization(L.Embedding(10, 4)), (3,))
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"):
        add(name, getattr(L, name), [(4,), (4,)])
    add("Add", L.Add, [(3, 4), (4,)])  # different ranks: Keras broadcasts without the batch
    add("Multiply", L.Multiply, [(2, 1, 4), (3, 1)])
    add("Concatenate", lambda: L.Concatenate(axis=0), [(4,), (4,)])
    add("Dot", lambda: L.Dot(axes=1), [(4,), (4,)])
    add("Dot", lambda: L.Dot(axes=(-1, -1)), [(3, 4), (5, 4)])
    add("MultiHeadAttention", lambda: L.MultiHeadAttention(2, 3), [(5, 6), (5, 6)])
    add("GroupQueryAttention", lambda: L.GroupQueryAttention(3, 4, 2), [(5, 6), (7, 6)])
    add("GroupQueryAttention", lambda: L.GroupQueryAttention(2, 2, 1, use_bias=False,
                                                             use_gate=True), [(5, 6), (4, 6)])
    add("Attention", L.Attention, [(5, 6), (5, 6)])
    add("AdditiveAttention", L.AdditiveAttention, [(5, 6), (5, 6)])
    add("Rescaling", lambda: L.Rescaling(1 / 255), IMG)
    add("Resizing", lambda: L.Resizing(4, 6), IMG)
    add("CenterCrop", lambda: L.CenterCrop(4, 6), IMG)
    add("RandomCrop", lambda: L.RandomCrop(4, 5), IMG)
    for name, args in (("RandomFlip", ()), ("RandomRotation", (0.1,)), ("RandomZoom", (0.1,)),
                       ("RandomTranslation", (0.1, 0.1)), ("RandomContrast", (0.1,)),
                       ("RandomBrightness", (0.1,)), ("AugMix", ()), ("AutoContrast", ()),
                       ("CutMix", ()), ("MixUp", ()), ("RandAugment", ()),
                       ("RandomColorDegeneration", (0.5,)), ("RandomColorJitter", ()),
                       ("RandomElasticTransform", ()), ("RandomErasing", ()),
                       ("RandomGaussianBlur", ()), ("RandomGrayscale", ()), ("RandomHue", (0.5,)),
                       ("RandomInvert", ()), ("RandomPerspective", ()),
                       ("RandomPosterization", (4,)), ("RandomSaturation", (0.5,)),
                       ("RandomSharpness", (0.5,)), ("RandomShear", (0.1,)), ("Solarization", ()),
                       ("MaxNumBoundingBoxes", (5,)),
                       ("ContrastLimitedAdaptiveHistogramEqualization", ((0, 255),))):
        add(name, lambda name=name, args=args: getattr(L, name)(*args), IMG)
    add("Pipeline", lambda: L.Pipeline([L.RandomFlip(), L.Resizing(4, 4)]), IMG)
    add("CategoryEncoding", lambda: L.CategoryEncoding(7), (3,))
    add("CategoryEncoding", lambda: L.CategoryEncoding(7, output_mode="one_hot"), (1,))
    add("Discretization", lambda: L.Discretization([0.0, 1.0]), (3,))
    add("Discretization", lambda: L.Discretization([0.0, 1.0], output_mode="one_hot"), (3,))
    add("Discretization", lambda: L.Discretization([0.0, 1.0, 2.0], output_mode="count"),
        (3, 2))
    add("CategoryEncoding", lambda: L.CategoryEncoding(5, output_mode="count"), (2, 3))
    add("Resizing", lambda: L.Resizing(4, 6, data_format="channels_first"), (3, 8, 8))
    add("STFTSpectrogram", lambda: L.STFTSpectrogram(frame_length=32, frame_step=8), (256, 1))
    add("STFTSpectrogram", lambda: L.STFTSpectrogram(mode="real", frame_length=20,
                                                     padding="same", expand_dims=True), (100, 2))
    add("MelSpectrogram", lambda: L.MelSpectrogram(fft_length=64, sequence_stride=16,
                                                   num_mel_bins=20), (256,))
    add("MelSpectrogram", lambda: L.MelSpectrogram(fft_length=32, sequence_stride=8,
                                                   num_mel_bins=10), (None,))
    add("STFTSpectrogram", lambda: L.STFTSpectrogram(mode="stft", frame_length=16,
                                                     data_format="channels_first"), (2, 64))
    add("TorchModuleWrapper", _torch_wrapper, (4,))
    return c


def _torch_wrapper() -> Any:
    import torch
    from keras.layers import TorchModuleWrapper

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    module[2].bias.requires_grad_(False)
    return TorchModuleWrapper(module, output_shape=(None, 2))


# Exported classes not built above, each with the reason.
LEFT_OUT = {
    "InputLayer": "the input of every model above",
    "Layer": "the base class: a subclass's weights come from its own Python code",
    "Wrapper": "an abstract base class (Bidirectional, TimeDistributed, … are covered)",
    "SimpleRNNCell": "a cell runs inside RNN (covered there); it cannot be called on a tensor",
    "LSTMCell": "a cell runs inside RNN (covered there)",
    "GRUCell": "a cell runs inside RNN (covered there)",
    "StackedRNNCells": "runs inside RNN (covered there)",
    "JaxLayer": "needs JAX (not installed); paramlab answers that it cannot count it",
    "FlaxLayer": "needs Flax (not installed); paramlab answers that it cannot count it",
    "TFSMLayer": "needs TensorFlow and a SavedModel; paramlab answers that it cannot count it",
    "Equalization": "Keras 3.15 cannot call it on a symbolic tensor ('part of a cycle'); "
                    "its rule is the augmentation pass-through",
    # Layers that require TensorFlow to be constructed: test_tensorflow_layers checks them
    # against Keras' own compute_output_shape instead.
    "Hashing": "needs TensorFlow to build; see test_tensorflow_layers",
    "HashedCrossing": "needs TensorFlow to build; see test_tensorflow_layers",
    "IntegerLookup": "needs TensorFlow to build; see test_tensorflow_layers",
    "StringLookup": "needs TensorFlow to build; see test_tensorflow_layers",
    "TextVectorization": "needs TensorFlow to build; see test_tensorflow_layers",
}


def exported_layers() -> dict[str, type]:
    """Every name in keras.layers that is a Layer class (aliases included)."""
    return {n: getattr(L, n) for n in dir(L)
            if inspect.isclass(getattr(L, n)) and issubclass(getattr(L, n), L.Layer)}


def _keras_counts(model: Any) -> tuple[int, int, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def _shape_of(tensor: Any) -> Any:
    """Keras' output shape without the batch axis; nested outputs (the per-cell states of a
    stacked RNN) flattened, as the JSON numbers them."""
    if isinstance(tensor, (list, tuple)):
        flat = [t for t in keras.tree.flatten(tensor)]
        return tuple(tuple(t.shape[1:]) for t in flat)
    return tuple(tensor.shape[1:])


def _check(name: str, factory: Callable[[], Any], shape: Any) -> list[str]:
    layer = factory()
    inputs = [keras.Input(s) for s in shape] if isinstance(shape, list) else keras.Input(shape)
    output = layer(*inputs) if isinstance(layer, (L.MultiHeadAttention, L.GroupQueryAttention)) \
        else layer(inputs)
    # A Lambda's output shape is in the JSON only where a later layer consumes it
    model = keras.Model(inputs, [output, L.Identity()(output)] if name == "Lambda" else output)
    expected = _keras_counts(model)
    problems = []
    try:
        summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    except ParamlabError as exc:
        return [f"{name}{shape}: {exc}"]
    got = (summary.total, summary.trainable, summary.non_trainable)
    if got != expected:
        problems.append(f"{name}{shape}: JSON counts {got}, Keras {expected}")
    row = next(r for r in summary.layers if r.type == get_layer_type(name).name)
    if row.output_shape != _shape_of(output):
        problems.append(f"{name}{shape}: JSON shape {row.output_shape}, Keras {_shape_of(output)}")
    live = paramlab.count(model, other_convention=False)
    if (live.total, live.trainable, live.non_trainable) != expected:
        problems.append(f"{name}{shape}: live counts {live.total}, Keras {expected}")
    return problems


def test_every_exported_layer_is_covered_or_left_out_with_a_reason() -> None:
    cases = _cases()
    exported = exported_layers()
    covered = {exported[name] for name in cases}  # aliases (AvgPool2D …) share one class
    undecided = sorted(n for n, cls in exported.items() if cls not in covered
                       and n not in LEFT_OUT and cls.__name__ not in LEFT_OUT)
    assert not undecided, f"exported layers neither tested nor left out: {undecided}"
    problems: list[str] = []
    for name, entries in cases.items():
        for factory, shape in entries:
            problems += _check(name, factory, shape)
    assert not problems, "\n".join(problems)


def test_left_out_layers_get_a_rule_or_a_clean_error() -> None:
    """Layers without a rule answer "no rule for X"; framework wrappers say what is missing."""
    data = {"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "i"}},
        {"module": "keras.layers", "class_name": "Layer", "config": {"name": "custom"}}]}}
    with pytest.raises(ParamlabError, match="'custom' is a Layer, which paramlab has no rule"):
        paramlab.count(data)
    for name, framework in (("JaxLayer", "JAX"), ("FlaxLayer", "Flax"),
                            ("TFSMLayer", "TensorFlow")):
        data["config"]["layers"][1] = {"class_name": name, "config": {"name": "w"}}
        with pytest.raises(ParamlabError, match=f"w.*cannot count it without its framework "
                                                f"\\({framework}\\)"):
            paramlab.count(data)


NOT_COUNTABLE = {"JaxLayer", "FlaxLayer", "TFSMLayer"}  # rules that only explain the refusal


def supported_count() -> tuple[int, int]:
    """(exported layer names paramlab counts, exported layer names) — docs/count.md's figure."""
    exported = exported_layers()
    supported = 0
    for name in exported:
        try:
            get_layer_type(name)
        except ParamlabError:
            continue
        supported += name not in NOT_COUNTABLE
    return supported, len(exported)


def test_supported_figure_in_docs() -> None:
    from pathlib import Path

    supported, total = supported_count()
    page = (Path(__file__).parents[1] / "docs" / "count.md").read_text(encoding="utf-8")
    assert f"{supported} of the {total} layer classes" in page
