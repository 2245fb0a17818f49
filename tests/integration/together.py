"""Child processes started together: each says it is ready, then all are let go at once by a go file.

Used by the tests that race several daemons over one PostgreSQL schema. Every wait is bounded;
a child still running when the test ends (or fails) is killed.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

__all__ = ["finish", "run_together", "wait_for"]


def wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll ``condition()`` until it holds (process start only, never a stand-in for simulated time)."""
    limit = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > limit:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.01)


def run_together(start: Callable[[int, Path, Path], subprocess.Popen[str]], count: int, folder: Path,
                 timeout: float) -> list[tuple[subprocess.Popen[str], str, str]]:
    """Start ``count`` children with ``start(n, ready_file, go_file)``, release them together, collect them.

    Returns (process, stdout, stderr) of each, in order; a child that does not finish within
    ``timeout`` seconds is killed and the test fails.
    """
    go = folder / "go"
    ready = [folder / f"ready-{n}" for n in range(count)]
    procs: list[subprocess.Popen[str]] = []
    try:
        procs = [start(n, ready[n], go) for n in range(count)]
        try:
            wait_for(lambda: all(r.exists() for r in ready) or any(p.poll() is not None for p in procs),
                     "the children to start", timeout)
        finally:
            go.touch()
    finally:
        outputs = finish(procs, timeout)
    return [(p, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


def finish(procs: list[subprocess.Popen[str]], timeout: float) -> list[tuple[str, str]]:
    """Wait for every process (``timeout`` seconds each); kill the rest if one hangs."""
    try:
        return [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
