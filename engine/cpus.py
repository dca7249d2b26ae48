"""How many CPUs this process may really use, and thread pools sized to it.

os.cpu_count() gives the machine's CPUs, not this process's share: in a container with a CPU quota
(Docker --cpus, a CI runner, a cgroup-limited VM) it can say 16 where two are usable. llama.cpp then
decodes on 8 threads that take turns on 2 cores, and OpenMP (FAISS) and OpenBLAS (numpy) start a
thread per visible CPU; each wait at a barrier costs a scheduler quantum, and the work runs many
times slower. Every thread count in Quarry comes from usable().
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")

# Thread pools of native libraries, read once when each library loads: set before numpy or faiss is imported.
POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _own_cgroups() -> tuple[str, str]:
    """Gives this process's cgroup v2 path ('0::/path' in /proc/self/cgroup) and its v1 cpu
    controller's path ('N:cpu,cpuacct:/path'); '' where there is none."""
    v2 = v1 = ""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, controllers, path = line.split(":", 2)
            if number == "0" and not controllers:
                v2 = path.lstrip("/")
            elif "cpu" in controllers.split(","):
                v1 = path.lstrip("/")
    except (OSError, ValueError):
        pass
    return v2, v1


def _quota_v2(folder: Path) -> float | None:
    """cgroup v2: cpu.max holds '<quota> <period>' or 'max <period>', and a parent's quota binds its
    children too, so the least from this cgroup up to the root counts."""
    quotas = []
    while True:
        try:
            quota, period = (folder / "cpu.max").read_text().split()[:2]
            if quota != "max":
                quotas.append(int(quota) / int(period))
        except (OSError, ValueError):
            pass
        if folder == CGROUP or folder == folder.parent:
            break
        folder = folder.parent
    return min(quotas, default=None)


def _quota_v1(root: Path, own: str = "") -> float | None:
    """cgroup v1: cpu.cfs_quota_us of this process's cpu cgroup, else of the root; -1 is no quota."""
    for folder in (root / "cpu" / own, root / "cpu"):
        try:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota <= 0 or period <= 0 else quota / period
    return None


def count(cpu_count: int | None, affinity: int | None, quota: float | None) -> int:
    """Gives the usable CPUs from what the machine, the scheduler's affinity mask and a quota allow."""
    usable = [n for n in (cpu_count, affinity) if n]
    if quota:
        usable.append(max(1, math.ceil(quota)))
    return max(1, min(usable, default=1))


@functools.cache
def usable() -> int:
    """Gives the CPUs this process may use: the least of the CPU count, the affinity mask and the
    cgroup quota. QUARRY_THREADS overrides it."""
    override = os.environ.get("QUARRY_THREADS", "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override)
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    v2, v1 = _own_cgroups()
    quota = _quota_v2(CGROUP / v2)
    if quota is None:
        quota = _quota_v1(CGROUP, v1)
    return count(os.cpu_count(), affinity, quota)


def size_native_pools() -> None:
    """Sizes OpenMP and BLAS pools to the usable CPUs unless the user set them."""
    for name in POOL_VARIABLES:
        os.environ.setdefault(name, str(usable()))
