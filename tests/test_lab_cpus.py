"""The CPUs the engine plans its workers for: the affinity mask capped by the cgroup quota, read
from cgroup v1 and v2 file trees laid out as Linux lays them out."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import torch

from paramlab.lab.engine import MLPArch, TrainConfig, cpus, workers
from paramlab.lab.engine.cpus import cgroup_cpu_quota, usable_cpus


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def v2_tree(tmp_path: Path, limits: dict[str, str], member_of: str = "/") -> tuple[Path, Path]:
    """A unified hierarchy whose folders (relative to the root) hold these ``cpu.max`` texts."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for folder, text in limits.items():
        write(root / folder / "cpu.max", text)
    proc = tmp_path / "proc_cgroup"
    write(proc, f"0::{member_of}")
    return proc, root


@pytest.mark.parametrize(("text", "cpus_granted"), [
    ("200000 100000", 2.0), ("150000 100000", 1.5), ("max 100000", None), ("", None),
])
def test_v2_cpu_max(tmp_path: Path, text: str, cpus_granted: float | None) -> None:
    proc, root = v2_tree(tmp_path, {".": text})
    assert cgroup_cpu_quota(proc, root) == cpus_granted


def test_the_tightest_quota_on_the_path_to_the_root_holds(tmp_path: Path) -> None:
    proc, root = v2_tree(tmp_path, {".": "max 100000", "ci": "100000 100000",
                                    "ci/job": "400000 100000"}, member_of="/ci/job")
    assert cgroup_cpu_quota(proc, root) == 1.0


def test_a_container_seeing_its_own_cgroup_at_the_root(tmp_path: Path) -> None:
    """Without a cgroup namespace the path names the host's folder, absent inside."""
    proc, root = v2_tree(tmp_path, {".": "300000 100000"}, member_of="/docker/4f2a")
    assert cgroup_cpu_quota(proc, root) == 3.0


def test_v1_cfs_quota(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    proc = tmp_path / "proc_cgroup"
    write(proc, "4:memory:/job\n3:cpu,cpuacct:/job\n0::/")
    write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1")
    write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_quota(proc, root) is None  # -1: unlimited
    write(root / "cpu,cpuacct" / "job" / "cpu.cfs_quota_us", "250000")
    write(root / "cpu,cpuacct" / "job" / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_quota(proc, root) == 2.5


def test_no_cgroup_file_system_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path / "absent", tmp_path) is None
    garbled = tmp_path / "proc_cgroup"
    write(garbled, "not a membership line\n0::/")
    assert cgroup_cpu_quota(garbled, tmp_path) is None


@pytest.mark.skipif(not Path("/proc/self/cgroup").exists(), reason="needs Linux's /proc")
def test_this_machine_reads_as_one_cpu_or_more_within_its_mask() -> None:
    """The real files, whatever layout this machine has (v1, v2 or hybrid), parse."""
    import os

    quota = cgroup_cpu_quota()
    assert quota is None or quota > 0
    assert 1 <= usable_cpus() <= len(os.sched_getaffinity(0))


def test_the_quota_caps_the_affinity_mask_rounding_up(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: set(range(64)))
    proc, root = v2_tree(tmp_path, {".": "150000 100000"})
    assert usable_cpus(proc, root) == 2
    write(root / "cpu.max", "max 100000")
    assert usable_cpus(proc, root) == 64
    write(root / "cpu.max", "10000 100000")  # a tenth of a CPU still runs one worker
    assert usable_cpus(proc, root) == 1


def test_a_one_cpu_quota_keeps_a_long_run_in_this_process(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The automatic choice on a 2-core host whose container grants one CPU."""
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(workers.torch, "get_num_threads", lambda: 2)
    proc, root = v2_tree(tmp_path, {".": "100000 100000"})
    monkeypatch.setattr(workers, "usable_cpus", functools.partial(usable_cpus, proc, root))
    archs = [MLPArch(10, (512, 512), 1)] * 4
    config = TrainConfig(epochs=200)
    assert workers.plan_groups(archs, config, 4000, torch.device("cpu")).workers == 1
    write(root / "cpu.max", "200000 100000")
    assert workers.plan_groups(archs, config, 4000, torch.device("cpu")).workers == 2
