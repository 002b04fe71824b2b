"""Functional-graph forms real Keras 3 code produces, counted from the JSON alone and checked
against the live Keras model: op nodes (``x + y``, ``keras.ops.*``, activations applied to
tensors, slicing), dict inputs and outputs, a nested model as the direct output, Lambda,
layers that need TensorFlow to build, and Keras' own argument checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import paramlab
from paramlab.errors import ParamlabError

keras = pytest.importorskip("keras")
L = keras.layers
ops = keras.ops


def keras_counts(model: Any) -> tuple[int, int, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def our_counts(summary: paramlab.Summary) -> tuple[int, int, int]:
    return summary.total, summary.trainable, summary.non_trainable


def keras_shapes(model: Any) -> dict[str, Any]:
    """Output shape (without batch) of every layer and op node, as model.summary() shows it."""
    shapes = {}
    for operation in model.operations:
        outputs = operation._inbound_nodes[0].output_tensors
        flat = [tuple(t.shape[1:]) for t in outputs]
        shapes[operation.name] = flat[0] if len(flat) == 1 else tuple(flat)
    return shapes


def assert_rows_match(summary: paramlab.Summary, model: Any) -> None:
    expected = keras_shapes(model)
    for row in summary.layers:
        assert row.output_shape == expected[row.name], row.name


def ops_model() -> Any:
    """Dict inputs and outputs, and op nodes of every kind the rules follow."""
    x = keras.Input((4, 6), name="x")
    y = keras.Input((6,), name="y")
    a = keras.activations.swish(x)
    b = a + y  # broadcasts (None, 4, 6) with (None, 6)
    c = b * 2.0
    d = c[:, 1:3, ::2]
    e = ops.reshape(d, (-1, 6))
    f = ops.mean(x, axis=1)
    g = ops.concatenate([f, y], axis=-1)
    h = ops.matmul(x, ops.transpose(x, (0, 2, 1)))
    i = L.Dense(3)(g)
    j = ops.expand_dims(i, 1)
    k = ops.einsum("bqd,bkd->bqk", x, x)
    m = ops.stack([f, y], axis=1)
    n = ops.squeeze(ops.sum(x, axis=-1, keepdims=True), axis=-1)
    o = ops.where(x > 0, x, 0.0)
    p = L.Dense(2)(ops.softmax(keras.activations.relu(x[..., None, :]))[:, 0])
    q = ops.max(ops.one_hot(ops.argmax(x, axis=-1), 5), axis=1)
    _, r = ops.split(x, [1], axis=1)  # only the second part is used
    t = L.Dense(5)(x) + ops.ones((4, 5))  # a constant tensor among the operands
    outputs = {"e": e, "h": h, "j": j, "k": k, "m": m, "n": n, "o": o, "p": p, "q": q, "r": r,
               "t": t}
    return keras.Model({"x": x, "y": y}, outputs)


def test_op_nodes_and_dict_inputs_outputs() -> None:
    model = ops_model()
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    assert_rows_match(summary, model)
    silu = next(row for row in summary.layers if row.name == "silu")
    assert (silu.type, silu.params) == ("ops.Silu", 0)
    live = paramlab.count(model, other_convention=False)
    assert our_counts(live) == keras_counts(model)
    json_rows = [(row.name, row.output_shape) for row in summary.layers
                 if row.type != "InputLayer"]
    assert sorted((row.name, row.output_shape) for row in live.layers) == sorted(json_rows)


def vit_like() -> Any:
    """As keras.io's image examples write it: an augmentation Sequential, patches cut with
    keras.ops, a position embedding added as a tensor, attention with residual '+'."""
    augment = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.02),
                                L.RandomZoom(0.2, 0.2)], name="augmentation")
    inputs = keras.Input((16, 16, 3))
    x = L.Rescaling(1 / 255)(augment(inputs))
    patches = ops.image.extract_patches(x, 4)
    tokens = L.Dense(8)(ops.reshape(patches, (-1, 16, 48)))
    tokens = tokens + L.Embedding(16, 8)(ops.arange(16))
    for _ in range(2):
        h = L.LayerNormalization(epsilon=1e-6)(tokens)
        tokens = tokens + L.MultiHeadAttention(2, 4, dropout=0.1)(h, h)
        mlp = L.Dense(8, activation=keras.activations.gelu)
        tokens = tokens + mlp(L.LayerNormalization()(tokens))
    pooled = ops.mean(tokens, axis=1)
    return keras.Model(inputs, [L.Dense(10)(pooled), L.Lambda(lambda t: t * 2)(pooled)])


def siamese_distance() -> Any:
    """keras.io's siamese network: one encoder on two inputs, a Lambda distance."""
    base = keras.Sequential([keras.Input((8,)), L.Dense(6), L.BatchNormalization()], name="tower")
    a, b = keras.Input((8,)), keras.Input((8,))
    distance = L.Lambda(lambda t: ops.sqrt(ops.sum(ops.square(t[0] - t[1]), axis=1,
                                                   keepdims=True)))([base(a), base(b)])
    return keras.Model([a, b], L.Dense(1, activation="sigmoid")(L.BatchNormalization()(distance)))


@pytest.mark.parametrize("build", [vit_like, siamese_distance], ids=lambda f: f.__name__)
def test_keras_io_style_models(build: Any) -> None:
    model = build()
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    assert our_counts(paramlab.count(model, other_convention=False)) == keras_counts(model)


def test_shape_ops_at_the_model_outputs() -> None:
    """Outputs nothing consumes: the JSON records no shape, the op rules must compute it."""
    x = keras.Input((4, 6))
    img = keras.Input((8, 8, 3))
    outputs = [ops.tile(x, (1, 2, 1)), ops.repeat(x, 3, axis=1),
               ops.broadcast_to(ops.expand_dims(x, 1), (2, 5, 4, 6)),
               ops.pad(x, ((0, 0), (1, 2), (0, 0))), ops.image.resize(img, (4, 5)),
               ops.cumsum(x, axis=1), ops.cumsum(x), ops.ravel(x), ops.take(x, [0, 2], axis=1),
               ops.norm(x, axis=-1), ops.moments(x, axes=[1])[1], ops.top_k(x, 2)[0],
               ops.nn.glu(x), ops.dot(x, ops.ones((6, 2))), ops.swapaxes(x, 1, 2),
               ops.moveaxis(x, 1, 2), ops.squeeze(ops.expand_dims(x, -1)),
               ops.split(x, 2, axis=2)[1]]
    model = keras.Model([x, img], outputs)
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert_rows_match(summary, model)


def test_op_without_a_rule_takes_the_recorded_shape() -> None:
    x = keras.Input((6, 4))
    rolled = ops.roll(ops.flip(x, 1), 2)
    # no rule for Diff: the Dense after it records its shape in the JSON
    model = keras.Model(x, L.Dense(3)(ops.diff(rolled, axis=1)))
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    row = next(r for r in summary.layers if r.name.startswith("diff"))
    assert (row.type, row.output_shape) == ("KerasOp", (5, 4))
    assert "recorded" in row.note


def nested_outputs() -> Any:
    x = keras.Input((4,))
    functional = keras.Model(x, L.Dense(2, name="d")(x), name="functional_inner")
    sequential = keras.Sequential([keras.Input((4,)), L.Dense(3)], name="sequential_inner")
    two = keras.Model(x, [L.Dense(5)(x), L.Dense(1, name="second")(x)], name="two")
    i, j = keras.Input((4,), name="i"), keras.Input((4,), name="j")
    # the second call of a nested Functional as an output: written as node 2, Keras' loader
    # reads node 1
    return keras.Model([i, j], [functional(i), functional(j), sequential(i), sequential(j),
                                *two(i), L.Dense(1)(i)])


def test_nested_model_as_direct_output() -> None:
    model = nested_outputs()
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    assert {row.name for row in summary.layers} >= {"functional_inner/d", "two/second"}


def nested_dicts() -> Any:
    """A nested model with dict inputs and outputs whose keys are not in sorted order: Keras
    flattens both by key, and the outer references count in that order."""
    b_in, a_in = keras.Input((3,), name="b_in"), keras.Input((5,), name="a_in")
    merged = L.Concatenate()([b_in, L.Dense(3)(a_in)])
    inner = keras.Model({"zeta": b_in, "alpha": a_in},
                        {"z": L.Dense(3, name="dz")(merged), "a": L.Dense(5, name="da")(merged)},
                        name="inner")
    p, q = keras.Input((3,), name="p"), keras.Input((5,), name="q")
    out = inner({"zeta": p, "alpha": q})
    return keras.Model({"q": q, "p": p}, {"head": L.Dense(2, name="head")(out["z"]),
                                          "inner": out["a"]})


def test_nested_dict_inputs_and_outputs() -> None:
    model = nested_dicts()
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    head = next(row for row in summary.layers if row.name == "head")
    assert head.params == (3 + 1) * 2  # reads dz, the "z" output


def test_lambda_shape_from_the_json() -> None:
    """In a Sequential model the next layer's build_config gives the Lambda's output; in a
    functional one the consumer's tensor; at a model output nothing does."""
    seq = keras.Sequential([keras.Input((5,)), L.Lambda(lambda t: t[:, :2]), L.Dense(3)])
    summary = paramlab.count(json.loads(seq.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(seq)
    lam = next(row for row in summary.layers if row.type == "Lambda")
    assert lam.output_shape == (2,) and lam.params == 0
    x = keras.Input((5,))
    last = keras.Model(x, L.Lambda(lambda t: t * 2)(L.Dense(4)(x)))
    summary = paramlab.count(json.loads(last.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(last)
    assert "output shape unknown" in summary.layers[-1].note
    from paramlab.render.explain import render_explain

    assert "Note: " in render_explain(summary).split("(Lambda)")[1]  # --explain shows why


def test_keras_archive_with_ops_without_keras(tmp_path: Path) -> None:
    model = ops_model()
    path = tmp_path / "ops.keras"
    model.save(path)
    code = ("import sys; sys.modules['keras'] = None; sys.modules['torch'] = None\n"
            "import paramlab\n"
            f"s = paramlab.count({str(path)!r})\n"
            "print(s.total, s.trainable, s.non_trainable)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(Path(paramlab.__file__).parents[1])})
    assert tuple(int(v) for v in out.stdout.split()) == keras_counts(model)


def test_reversible_embedding_called_in_reverse() -> None:
    tokens = keras.Input((7,), dtype="int32")
    embed = L.ReversibleEmbedding(50, 8, tie_weights=False, name="embed")
    hidden = L.Dense(8)(embed(tokens))
    model = keras.Model(tokens, L.Activation("softmax")(embed(hidden, reverse=True)))
    summary = paramlab.count(json.loads(model.to_json()), other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    calls = [row for row in summary.layers if row.name == "embed"]
    assert [row.output_shape for row in calls] == [(7, 8), (7, 50)]
    assert summary.layers[-1].output_shape == (7, 50)


def test_torch_module_wrapper_read_without_running_the_pickle() -> None:
    """A module used twice and a frozen parameter: counted as Keras tracks them (shared
    parameters once), from the JSON's torch.save archive, which is never unpickled for real."""
    import torch

    shared = torch.nn.Linear(4, 4)
    module = torch.nn.Sequential(shared, torch.nn.Tanh(), shared, torch.nn.Linear(4, 2))
    module[3].weight.requires_grad_(False)
    x = keras.Input((4,))
    model = keras.Model(x, L.TorchModuleWrapper(module, output_shape=(None, 2))(x))
    data = json.loads(model.to_json())
    summary = paramlab.count(data, other_convention=False)
    assert our_counts(summary) == keras_counts(model)
    assert keras_counts(model) == (30, 22, 8)
    data["config"]["layers"][1]["config"]["module"] = "bm90IGEgemlw"  # base64 of "not a zip"
    with pytest.raises(ParamlabError, match=r"not a torch\.save archive"):
        paramlab.count(data)


def _unbuilt(cls: Any, **attributes: Any) -> Any:
    """A Keras layer object without running its constructor (which needs TensorFlow), so
    Keras' own compute_output_shape can answer for it."""
    layer = object.__new__(cls)
    layer.__dict__.update(attributes)
    return layer


TF_LAYERS = [
    ("StringLookup", {"vocabulary": ["a", "b", "c"], "output_mode": "int",
                      "vocabulary_size": 4}, (3,)),
    ("StringLookup", {"vocabulary": ["a", "b", "c"], "output_mode": "one_hot",
                      "vocabulary_size": 4}, (1,)),
    ("IntegerLookup", {"vocabulary": [1, 2], "output_mode": "multi_hot", "vocabulary_size": 3,
                       "max_tokens": 10, "pad_to_max_tokens": True}, (5,)),
    ("Hashing", {"num_bins": 7, "output_mode": "one_hot"}, (3,)),
    ("Hashing", {"num_bins": 7}, (3,)),
    ("HashedCrossing", {"num_bins": 5, "output_mode": "one_hot"}, [(1,), (1,)]),
    ("TextVectorization", {"output_mode": "int", "output_sequence_length": 12}, (1,)),
    ("TextVectorization", {"output_mode": "count", "vocabulary_size": 9}, (1,)),
]


def _keras_tf_shape(name: str, config: dict[str, Any], shape: Any) -> Any:
    cls = getattr(L, name)
    mode = config.get("output_mode", "int")
    full = [(None, *s) for s in shape] if isinstance(shape, list) else (None, *shape)
    if name in ("StringLookup", "IntegerLookup"):
        layer = _unbuilt(cls, output_mode=mode, max_tokens=config.get("max_tokens"),
                         pad_to_max_tokens=config.get("pad_to_max_tokens", False),
                         _frozen_vocab_size=config["vocabulary_size"])
    elif name == "TextVectorization":
        lookup = _unbuilt(L.StringLookup, output_mode=mode, max_tokens=None,
                          pad_to_max_tokens=False,
                          _frozen_vocab_size=config.get("vocabulary_size"))
        layer = _unbuilt(cls, _output_mode=mode, _split="whitespace", _lookup_layer=lookup,
                         _output_sequence_length=config.get("output_sequence_length"))
    else:
        layer = _unbuilt(cls, output_mode=mode, num_bins=config["num_bins"])
    return tuple(cls.compute_output_shape(layer, full))[1:]


@pytest.mark.parametrize(("name", "config", "shape"), TF_LAYERS)
def test_tensorflow_layers(name: str, config: dict[str, Any], shape: Any) -> None:
    """Keras builds these only with TensorFlow: their JSON is counted (0 parameters, state
    outside Keras variables) and shaped as Keras' own compute_output_shape says."""
    shapes = shape if isinstance(shape, list) else [shape]
    layers: list[dict[str, Any]] = [
        {"class_name": "InputLayer", "name": f"in{k}", "inbound_nodes": [],
         "config": {"batch_shape": [None, *s], "name": f"in{k}"}} for k, s in enumerate(shapes)]
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": [None, *s], "keras_history": [f"in{k}", 0, 0]}}
               for k, s in enumerate(shapes)]
    layers.append({"module": "keras.layers", "class_name": name, "name": "lookup",
                   "config": {"name": "lookup", **config},
                   "inbound_nodes": [{"args": [tensors if len(tensors) > 1 else tensors[0]],
                                      "kwargs": {}}]})
    data = {"class_name": "Functional", "config": {
        "name": "m", "layers": layers, "input_layers": [[f"in{k}", 0, 0] for k in
                                                        range(len(shapes))],
        "output_layers": [["lookup", 0, 0]]}}
    summary = paramlab.count(data, other_convention=False)
    assert summary.total == 0
    assert summary.layers[-1].output_shape == _keras_tf_shape(name, config, shape)


@pytest.mark.parametrize(("make", "dsl", "message"), [
    (lambda: L.Dropout(1.5), "input(4) > dropout(1.5)",
     "Dropout.*expected a float value between 0 and 1 for 'rate'. Received: rate=1.5"),
    (lambda: L.GaussianNoise(-1), "input(4) > gaussian_noise(-1)",
     "GaussianNoise.*'stddev'. Received: stddev=-1"),
    (lambda: L.SpatialDropout1D(2.0), "input(4, 3) > spatial_dropout1d(2.0)",
     "SpatialDropout1D.*'rate'. Received: rate=2.0"),
    (lambda: L.GroupNormalization(0), "input(4) > group_normalization(0)",
     "GroupNormalization.*positive integer \\(or -1 for instance normalization\\) for 'groups'"),
    (lambda: L.ActivityRegularization(l1=-1), "input(4) > activity_regularization(l1=-1)",
     "ActivityRegularization.*non-negative float for 'l1'"),
    (lambda: L.Dense(3, activation="rleu"), "input(4) > dense(3, activation=rleu)",
     "Dense.*activation Keras knows.*Received: activation='rleu'"),
    (lambda: L.LSTM(3, recurrent_activation="sigmod"),
     "input(5, 4) > lstm(3, recurrent_activation=sigmod)", "LSTM.*'recurrent_activation'"),
])
def test_invalid_arguments_are_named(make: Any, dsl: str, message: str) -> None:
    """What Keras refuses at construction, paramlab refuses too, naming layer and argument."""
    with pytest.raises(ValueError):
        make()
    with pytest.raises(ParamlabError, match=message):
        paramlab.count(dsl)


def test_dsl_gains_the_new_layers() -> None:
    from keras_builder import build_keras
    from paramlab.spec import parse_dsl

    text = ("input(8, 8, 3) > random_flip > random_rotation(0.1) > resizing(6, 6) > "
            "center_crop(4, 4) > adaptive_average_pooling2d(2) > "
            "einsum_dense('abcd,de->abce', (2, 2, 5), bias_axes='e') > reshape((4, 5)) > "
            "masking > rnn(lstm_cell(3), return_sequences=true) > "
            "group_query_attention(2, 4, 2) > identity > flatten > dense(2)")
    spec = parse_dsl(text)
    model, _ = build_keras(spec)
    summary = paramlab.count(spec, other_convention=False)
    assert our_counts(summary) == keras_counts(model)


def test_dsl_refuses_lambda() -> None:
    with pytest.raises(ParamlabError, match="Lambda wraps a Python function"):
        paramlab.count("input(4) > lambda > dense(2)")


def test_rnn_cells_under_the_torch_convention() -> None:
    """RNN(cell) under the torch convention counts PyTorch's two bias vectors per gate, as
    nn.LSTM/nn.GRU (one layer per stacked cell) have them."""
    import torch

    lstm_gru = paramlab.count("input(5, 3) > rnn([lstm_cell(4), gru_cell(2)])",
                              convention="torch", other_convention=False)
    expected = sum(p.numel() for m in (torch.nn.LSTM(3, 4), torch.nn.GRU(4, 2))
                   for p in m.parameters())
    assert lstm_gru.total == expected
