"""Training memory per GPU (paramlab.training) against the ZeRO paper's worked example and
against the optimizers' own state tensors (torch, bitsandbytes, transformers)."""

from __future__ import annotations

import math

import pytest

from paramlab.errors import ParamlabError
from paramlab.training import Setup, optimizer_state_bytes, training_per_gpu

PSI = 7_500_000_000  # the ZeRO paper's example: 7.5B parameters on 64 GPUs, K = 12


@pytest.mark.parametrize(("stage", "gigabytes"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_worked_example(stage: int, gigabytes: float) -> None:
    """Rajbhandari et al. 2020 (arXiv 1910.02054), Figure 1: 120 GB → 31.4 → 16.6 → 1.9 GB."""
    report = training_per_gpu([(PSI,)], Setup.make(gpus=64, zero=stage))
    assert round(report.total / 1e9, 1) == gigabytes


def test_zero_stage_formulas_exactly() -> None:
    """Stage 1 = 4Ψ + KΨ/N, stage 2 = 2Ψ + (2 + K)Ψ/N, stage 3 = (4 + K)Ψ/N with K = 12."""
    n = 64
    totals = [training_per_gpu([(PSI,)], Setup.make(gpus=n, zero=z)).total for z in range(4)]
    assert totals == [16 * PSI, 4 * PSI + 12 * PSI // n, 2 * PSI + 14 * PSI // n,
                      16 * PSI // n]


def test_fsdp_modes_shard_as_zero_stages() -> None:
    shapes = [(1000, 300), (300,)]
    for fsdp, stage in (("full", 3), ("grad-op", 2)):
        a = training_per_gpu(shapes, Setup.make(gpus=8, fsdp=fsdp))
        b = training_per_gpu(shapes, Setup.make(gpus=8, zero=stage))
        assert (a.weights, a.gradients, a.optimizer) == (b.weights, b.gradients, b.optimizer)
        assert a.setup.sharding.startswith("FSDP")


def test_fp32_adam_is_sixteen_bytes_without_master_copy() -> None:
    report = training_per_gpu([(10, 10)], Setup.make(precision="fp32"))
    assert (report.weights.gpu, report.gradients.gpu, report.optimizer.gpu) == (400, 400, 800)


def test_offload_moves_bytes_to_cpu() -> None:
    setup = Setup.make(gpus=4, zero=3, offload=("optimizer", "params"))
    report = training_per_gpu([(1000,)], setup)
    assert report.total == 2 * 1000 // 4  # only the fp16 gradient shard stays
    assert report.cpu == 2 * 1000 // 4 + 12 * 1000 // 4


def test_offload_params_needs_stage_three() -> None:
    with pytest.raises(ParamlabError, match="zero=3"):
        Setup.make(gpus=2, zero=2, offload=("params",))


@pytest.mark.parametrize("bad", [{"zero": 4}, {"fsdp": "hybrid"}, {"gpus": 0},
                                 {"optimizer": "lion"}, {"zero": 1, "fsdp": "full"}])
def test_bad_settings_are_one_line_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ParamlabError) as info:
        Setup.make(**bad)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def _state_bytes(optimizer: object, params: list[object]) -> int:
    """Bytes of every state tensor the optimizer holds, each storage once."""
    import torch

    seen: dict[int, int] = {}
    for p in params:
        for value in optimizer.state[p].values():  # type: ignore[attr-defined]
            if torch.is_tensor(value) and value.dim() > 0:
                seen[value.data_ptr()] = value.numel() * value.element_size()
    return sum(seen.values())


def _params(shapes: list[tuple[int, ...]]) -> list[object]:
    import torch

    return [torch.nn.Parameter(torch.randn(*s)) for s in shapes]


def _step(optimizer: object, params: list[object]) -> None:
    sum(p.sum() for p in params).backward()  # type: ignore[attr-defined]
    optimizer.step()  # type: ignore[attr-defined]


SHAPES = [(300, 50), (4, 33, 40), (100,), (64, 64), (5000,)]


def test_adam_states_match_torch() -> None:
    torch = pytest.importorskip("torch")
    params = _params(SHAPES)
    optimizer = torch.optim.Adam(params)
    _step(optimizer, params)
    assert optimizer_state_bytes(SHAPES, "adam", "fp32").bytes == _state_bytes(optimizer, params)


def test_adam8bit_states_match_bitsandbytes() -> None:
    pytest.importorskip("torch")
    bnb = pytest.importorskip("bitsandbytes")
    params = _params(SHAPES)
    optimizer = bnb.optim.Adam8bit(params)
    _step(optimizer, params)
    ours = optimizer_state_bytes(SHAPES, "adam8bit", "fp32").bytes
    assert ours == _state_bytes(optimizer, params)
    assert ours < 3 * sum(math.prod(s) for s in SHAPES)


def test_adafactor_states_match_transformers() -> None:
    pytest.importorskip("torch")
    optimization = pytest.importorskip("transformers.optimization")
    params = _params(SHAPES)
    optimizer = optimization.Adafactor(params, lr=1e-3, relative_step=False)
    _step(optimizer, params)
    assert optimizer_state_bytes(SHAPES, "adafactor", "fp32").bytes == _state_bytes(
        optimizer, params)


def test_mixed_precision_adds_fp32_master_copy() -> None:
    fp32 = optimizer_state_bytes(SHAPES, "adafactor", "fp32").bytes
    mixed = optimizer_state_bytes(SHAPES, "adafactor", "mixed").bytes
    assert mixed - fp32 == 4 * sum(math.prod(s) for s in SHAPES)


def test_frozen_parameters_cost_weights_only() -> None:
    report = training_per_gpu([(10, 10)], Setup.make(gpus=2, zero=3), frozen=50)
    assert report.weights.gpu == 2 * 150 // 2
    assert (report.gradients.gpu, report.optimizer.gpu) == (2 * 100 // 2, 12 * 100 // 2)
