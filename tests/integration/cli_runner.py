"""Run ``kntc`` as a real process in the repository against a SQLite file, and read what the user sees.

``kntc(db, *args)`` runs one command (by default the module of this checkout, ``python -m adapters.cli``;
``command=INSTALLED`` runs the installed console script where there is one); ``ok`` asserts a success and
returns stdout; ``refused`` asserts a user's mistake reported on one ``kntc: error:`` line and returns it.
``with_config(tmp_path, text)`` writes a test's config.yaml; ``kntc_with(setup, *args)`` runs against it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the module, run from the checkout: the code under test is this checkout's
MODULE = [sys.executable, "-m", "adapters.cli"]
_SCRIPT = Path(sys.executable).with_name("kntc")
#: the installed console script, or the module where it is not installed
INSTALLED = [str(_SCRIPT)] if _SCRIPT.exists() else MODULE


def kntc(db: Path, *args: str, command: Sequence[str] = MODULE) -> subprocess.CompletedProcess[str]:
    """Run one ``kntc`` command in the repository against the SQLite file ``db``."""
    env = {**os.environ, "KNTC_DATABASE_URL": f"sqlite:///{db}", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=60, check=False)


def with_config(folder: Path, text: str) -> tuple[Path, Path]:
    """The SQLite file and the config file (``text``) of a test in ``folder``."""
    config = folder / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return folder / "kntc.db", config


def kntc_with(setup: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one ``kntc`` command with the config of :func:`with_config`."""
    db, config = setup
    return kntc(db, "--config", str(config), *args)


def ok(run: subprocess.CompletedProcess[str]) -> str:
    """Assert the command succeeded without a traceback; its stdout."""
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


def refused(run: subprocess.CompletedProcess[str]) -> str:
    """Assert a user's mistake: non-zero, one ``kntc: error:`` line on stderr, nothing on stdout; the line."""
    assert run.returncode != 0, run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kntc: error: "), run.stderr
    assert run.stdout == ""
    return lines[0]
