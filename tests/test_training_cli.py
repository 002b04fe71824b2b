"""Training per GPU through ``paramlab count`` and ``paramlab.count``: flags, JSON, text, and
one-line errors (exit 2) for settings that contradict each other."""

from __future__ import annotations

import json

import pytest

import paramlab
from paramlab.cli import main
from paramlab.errors import ParamlabError

SPEC = "784-10-10-3"
PARAMS = 7_993


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_training_per_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", SPEC, "--zero", "3", "--gpus", "4", "--json")
    assert code == 0
    data = json.loads(out)["training_per_gpu"]
    assert (data["zero_stage"], data["gpus"], data["trainable_params"]) == (3, 4, PARAMS)
    assert data["total"] == data["weights"] + data["gradients"] + data["optimizer"]
    assert data["optimizer"] == -(-12 * PARAMS // 4)  # K = 12, sharded over 4
    assert data["largest_layer"]["params"] == 7_850  # dense: (784 + 1) × 10


def test_text_shows_formula_beside_each_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "count", SPEC, "--fsdp", "grad-op", "--gpus", "2")
    assert code == 0
    assert "Training per GPU (FSDP SHARD_GRAD_OP over 2 GPUs" in out
    assert f"2Ψ / 2 = {PARAMS:,}" in out  # gradients sharded
    assert "accelerate estimate-memory" in out  # what the other estimators compute


def test_memory_alone_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "count", SPEC, "--memory")
    assert "Training per GPU" not in out


def test_adafactor_on_a_spec_matches_transformers() -> None:
    torch = pytest.importorskip("torch")
    optimization = pytest.importorskip("transformers.optimization")
    model = torch.nn.Sequential(torch.nn.Linear(784, 10), torch.nn.Linear(10, 10),
                                torch.nn.Linear(10, 3))
    optimizer = optimization.Adafactor(model.parameters(), lr=1e-3, relative_step=False)
    model(torch.zeros(1, 784)).sum().backward()
    optimizer.step()
    expected = sum(v.numel() * v.element_size() for state in optimizer.state.values()
                   for v in state.values() if torch.is_tensor(v) and v.dim() > 0)
    summary = paramlab.count(SPEC, optimizer="adafactor", precision="fp32")
    assert summary.training_per_gpu.per_gpu.optimizer.gpu == expected


def test_offload_keyword_takes_a_string() -> None:
    summary = paramlab.count(SPEC, zero=3, gpus=2, offload="optimizer,params")
    t = summary.training_per_gpu.per_gpu
    assert t.weights.gpu == 0 and t.optimizer.gpu == 0 and t.cpu > 0


@pytest.mark.parametrize(("argv", "fragment"), [
    (("--zero", "1", "--offload", "params"), "offload params needs sharded weights"),
    (("--zero", "1", "--fsdp", "full"), "zero and fsdp name the same choice"),
    (("--offload", "disk"), "offload must be one of"),
])
def test_contradictions_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv,
                                             fragment) -> None:
    code, out, err = run(capsys, "count", SPEC, *argv)
    assert code == 2 and out == ""
    assert fragment in err.splitlines()[0] and "Traceback" not in err


def test_shape_dependent_optimizer_refuses_unknown_shapes() -> None:
    summary = paramlab.count(SPEC)
    summary.layers[0].weights.clear()  # shapes no longer add up to the trainable count
    from paramlab.training import Setup, training_report

    with pytest.raises(ParamlabError, match="not all known"):
        training_report(summary, Setup.make(optimizer="adam8bit"))


def test_fit_for_training_uses_the_per_gpu_model() -> None:
    """--fit --fit-for training with sharding: the search's cost is the model states per GPU
    plus Korthikanti's activations, each term as training per GPU reports it."""
    from pathlib import Path

    config = json.loads((Path(__file__).parent / "data" / "hf_published"
                         / "Qwen__Qwen2.5-0.5B.json").read_text())
    summary = paramlab.count(config, fit="24GiB", fit_for="training", context=1024, zero=3,
                             gpus=8, checkpointing="selective")
    answer = summary.to_dict()["fit"]["answers"][0]
    report = summary.training_per_gpu
    states = answer["terms"]["weights, gradients and optimizer state per GPU (ZeRO-3, adam)"]
    assert states == report.per_gpu.total
    batch = answer["value"]
    assert answer["terms"]["activations per GPU (Korthikanti et al., selective recomputation)"] \
        == batch * report.activations.bytes  # the report is at batch 1
    assert answer["total"] <= 24 * 2**30 < states + (batch + 1) * report.activations.bytes
