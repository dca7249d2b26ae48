"""The same ingest and batch-classify stages on Ray Data (the optional `scale` extra).

Nothing here is imported on the TUI's start or the query path: `quarry ingest --ray` and
`quarry classify --table/--file ... --ray` import it, and it imports Ray only when it runs. What both
share lives here: joining Ray (one line when Ray is missing or an address does not answer) and the
sizing of the encoder actor pool."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator

from engine import cpus
from engine.errors import QuarryError

CONNECT_SECONDS = 10.0  # an address that does not answer is one line well within 30 s
LOCAL = "local"


class ScaleError(QuarryError):
    """Ray is missing or a Ray cluster cannot be reached."""


def require_ray():
    """Gives the ray module; one line naming the extra when it is not installed."""
    try:
        import ray
        import ray.data  # noqa: F401 (Ray Data is what the extra adds)
    except ImportError:
        raise ScaleError("--ray needs Ray Data, which is not installed: install the scale extra"
                         " (pip install 'quarry[scale]', or pip install 'ray[data]')") from None
    return ray


def resolve(address: str | None) -> str:
    """Gives the Ray address to use: the one given, else RAY_ADDRESS, else a local Ray."""
    if address and address != LOCAL:
        return address
    return os.environ.get("RAY_ADDRESS") or LOCAL


def check_answers(address: str, timeout: float = CONNECT_SECONDS) -> None:
    """Refuses, in one line, a cluster address whose head does not accept a connection."""
    target = address.split("://", 1)[-1].rstrip("/")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ScaleError(f"Ray address '{address}': give HOST:PORT (the head's GCS port, 6379 by default)"
                         " or ray://HOST:10001")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        cause = exc.strerror or type(exc).__name__ if not isinstance(exc, TimeoutError) else "timed out"
        raise ScaleError(f"Ray at {address} does not answer ({cause}); start the cluster or fix --ray /"
                         " RAY_ADDRESS") from None


def check(address: str | None) -> None:
    """Refuses, before any work, a Ray path that cannot run: Ray not installed, or a cluster address whose
    head does not answer (one line each)."""
    require_ray()
    where = resolve(address)
    if where != LOCAL:
        check_answers(where)


def quiet(ray) -> None:
    """Turns Ray Data's progress bars and warnings off: each job prints its own lines, and the warnings seen
    here were false alarms on every run (that the bars are off; that no CPU was free, while the sized pool
    left the parse tasks theirs). A real failure reaches Quarry as an exception."""
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def _quiet_core() -> None:
    """Keeps Ray's C++ core from writing to the terminal below fatal, unless the user set its level: it
    logged an ERROR line on every run (Ray Data passes each actor pool its function through the object
    store, which the core warns about when actors may restart) and one for each worker that died and was
    retried. What matters reaches Quarry as an exception; RAY_BACKEND_LOG_LEVEL=info shows the rest again
    (a local Ray's own processes inherit the level, so their log files hold it too)."""
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")


def encoder_pool(ray) -> dict:
    """Gives the map_batches arguments of an actor pool that holds an encoder, sized to the cluster.

    One actor per GPU (`num_gpus=1`) where the cluster has GPUs, else one per two CPUs holding one CPU
    each: on this 2-core machine a pool that took every CPU starved the read and parse tasks and the job
    never ended.

    An actor whose process dies (kill -9, out of memory) is restarted, its encoder loaded again, and the
    batch it held is retried: Ray Data gives actor pools max_restarts=-1 and max_task_retries=-1 unless
    told otherwise, and a task whose worker dies is retried (Ray's max_retries, 3). Those are left at
    their defaults because passing them to map_batches is deprecated since Ray 2.60 (removed in 2.64);
    tests/engine/test_scale.py kills a parse worker and an encoder actor to hold Ray to them."""
    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 1.0), resources.get("GPU", 0.0)
    actors = max(1, int(gpus) if gpus >= 1 else int(cpus // 2))
    return {"compute": ray.data.ActorPoolStrategy(size=actors), "num_cpus": 0 if gpus >= 1 else 1,
            "num_gpus": 1 if gpus >= 1 else 0}


STALL_ENV = "QUARRY_TEST_RAY_STALL"
STALL_SECONDS = 60.0


def stall_point(stage: str) -> None:
    """A test's hook, off unless QUARRY_TEST_RAY_STALL names a folder that exists: the first Ray worker to
    reach `stage` writes its pid to FOLDER/<stage>.pid and waits there (at most a minute) to be killed.

    Killing a Ray worker in the middle of a known task is a fault no input can cause at a fixed point;
    without the hook a test would race the scheduler. A retried task finds the claim taken and runs on."""
    folder = os.environ.get(STALL_ENV)
    if not folder:
        return
    try:
        claim = os.open(os.path.join(folder, f"{stage}.claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:  # no such folder (the hook is not armed), or an earlier worker claimed this stage
        return
    os.close(claim)
    pid_file = os.path.join(folder, f"{stage}.pid")
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)  # the test never reads half a pid
    deadline = time.monotonic() + STALL_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def _code_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent.parent


def start_local(ray, num_cpus: int | None = None) -> None:
    """Starts a local Ray on this machine's usable CPUs, its workers importing this checkout's engine."""
    _quiet_core()
    ray.init(num_cpus=num_cpus or cpus.usable(), include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR, _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": str(_code_root())}})


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[str]:
    """Holds a Ray connection for the block: a running one is reused (tests share one), a local Ray is
    started with this machine's usable CPUs, a cluster is joined; gives the address used."""
    ray = require_ray()
    where = resolve(address)
    if where == LOCAL and ray.is_initialized():
        yield "running"
        return
    if where == LOCAL:
        start_local(ray)
    else:
        check_answers(where)
        _quiet_core()
        try:
            # the engine package travels to the cluster's workers; the models must be on every node
            ray.init(address=where, log_to_driver=False, logging_level=logging.ERROR,
                     runtime_env={"py_modules": [str(_code_root() / "engine")]})
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise ScaleError(f"Ray at {where} could not be joined ({str(exc).splitlines()[0][:120]})") from None
    try:
        yield where
    finally:
        ray.shutdown()
