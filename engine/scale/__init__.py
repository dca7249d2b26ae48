"""The same ingest stages on Ray Data (the optional `scale` extra), Parquet in and out.

Nothing here is imported on the TUI's start or the query path: `quarry ingest --ray` imports it, and
it imports Ray only when it runs."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
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


def _code_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent.parent


def start_local(ray, num_cpus: int | None = None) -> None:
    """Starts a local Ray on this machine's usable CPUs, its workers importing this checkout's engine."""
    ray.init(num_cpus=num_cpus or cpus.usable(), include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING, _node_ip_address="127.0.0.1",
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
        try:
            # the engine package travels to the cluster's workers; the models must be on every node
            ray.init(address=where, log_to_driver=False, logging_level=logging.WARNING,
                     runtime_env={"py_modules": [str(_code_root() / "engine")]})
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise ScaleError(f"Ray at {where} could not be joined ({str(exc).splitlines()[0][:120]})") from None
    try:
        yield where
    finally:
        ray.shutdown()
