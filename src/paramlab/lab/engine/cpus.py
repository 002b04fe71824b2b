"""How many CPUs this process may keep busy: its affinity mask, capped by its cgroup's quota.

A container limited to two CPUs on a 64-core host still sees 64 cores in its affinity mask
(and PyTorch starts 64 threads). Sixty-four workers would then share two CPUs' time: each
holding a group's state and stepping it at a thirty-second of the speed, for no gain. The
quota (cgroup v2's ``cpu.max``, v1's ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``) is the
tightest one on the path from the process's cgroup to the hierarchy's root.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus(proc_cgroup: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> int:
    """CPUs in the affinity mask, capped by the quota; a fractional quota rounds up, since
    a worker can use the fraction."""
    cpus = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(proc_cgroup, root)
    return cpus if quota is None else max(1, min(cpus, math.ceil(quota)))


def cgroup_cpu_quota(proc_cgroup: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> float | None:
    """CPUs' worth of time the process's cgroups grant it, None where none is limited or the
    files cannot be read (not Linux, no cgroup file system)."""
    try:
        memberships = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in memberships:
        if line.count(":") < 2:  # not "hierarchy-id:controllers:path"
            continue
        _, controllers, path = line.split(":", 2)
        if not controllers:  # the v2 (unified) hierarchy
            quotas += filter(None, map(_v2_quota, _towards_root(root, path)))
        elif "cpu" in controllers.split(","):
            quotas += filter(None, map(_v1_quota, _towards_root(root / controllers, path)))
    return min(quotas, default=None)


def _towards_root(root: Path, path: str) -> list[Path]:
    """The cgroup's folder and each one above it up to ``root``. Where the folder is absent
    (a container sees its own cgroup mounted at the root), only the folders that exist."""
    here = root / path.lstrip("/")
    return [folder for folder in (here, *here.parents)
            if folder.is_relative_to(root) and folder.is_dir()]


def _v2_quota(folder: Path) -> float | None:
    """``cpu.max`` holds "quota period" or "max period"."""
    quota, _, period = _read(folder / "cpu.max").partition(" ")
    return _ratio(quota, period)


def _v1_quota(folder: Path) -> float | None:
    """``cpu.cfs_quota_us`` is -1 where unlimited."""
    return _ratio(_read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us"))


def _ratio(quota: str, period: str) -> float | None:
    try:
        value = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):  # "max", an absent file, a garbled one
        return None
    return value if value > 0 else None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
