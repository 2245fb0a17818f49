"""kntc from a built wheel, outside the repository (DESIGN.md §1, §10): the shipped data is package data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "config.yaml", "workflows", "engine", "adapters")
TIMEOUT = 240

USE_IT = """
import json, sys
from pathlib import Path
import engine
from adapters.bootstrap import build
from engine.testing import ManualClock, memory_engine
assert not Path(engine.__file__).is_relative_to(Path(sys.argv[1])), engine.__file__
eng = memory_engine()
case = eng.open_case("complaint", received_at=eng.clock.now(), petitioners=[{"name": "A"}],
                     respondent="R", subject="S")
eng.tick()
sql = build(None, database_url=sys.argv[2], clock=ManualClock(eng.clock.now()))
again = sql.open_case("petition", received_at=eng.clock.now(), petitioners=[{"name": "B"}],
                      respondent="R", subject="S")
print(json.dumps({"memory": case.state, "sql": again.state, "deadlines": sorted(case.deadlines)}))
"""


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _copy_sources(target: Path, *, without: str = "") -> Path:
    target.mkdir()
    for name in SOURCES:
        if name == without:
            continue
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "_data"))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.mark.slow
def test_an_installed_wheel_works_outside_the_repository(tmp_path: Path) -> None:
    """The wheel carries workflows and config; installed elsewhere, memory_engine() and build(None) open cases."""
    built = _pip("wheel", "--no-deps", "-w", str(tmp_path / "dist"), f"./{_copy_sources(tmp_path / 'src').name}",
                 cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "deprecated" not in built.stderr + built.stdout, "setuptools warned about the project metadata"
    (wheel,) = (tmp_path / "dist").glob("kntc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "engine/_data/config.yaml" in names
    assert {f"engine/_data/workflows/{p.name}" for p in (ROOT / "workflows").glob("*.yaml")} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere = tmp_path / "portal"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KNTC_DATABASE_URL", "KNTC_CONFIG")}
    env["KNTC_CACHE_DIR"] = str(tmp_path / "cache")
    used = subprocess.run([str(python), "-c", USE_IT, str(ROOT), f"sqlite:///{elsewhere / 'k.db'}"], cwd=elsewhere,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert used.returncode == 0, used.stderr[-3000:]
    assert '"memory": "intake_check"' in used.stdout and '"sql": "received"' in used.stdout
    assert used.stderr == "", used.stderr
    cli = subprocess.run([str(venv / "bin" / "kntc"), "validate", "--config", "default"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert cli.returncode == 0 and "ok complaint" in cli.stdout, cli.stderr

    broken = _pip("wheel", "--no-deps", "-w", str(tmp_path / "dist2"),
                  f"./{_copy_sources(tmp_path / 'nodata', without='workflows').name}", cwd=tmp_path)
    assert broken.returncode != 0
    assert "kntc build:" in broken.stdout + broken.stderr and "workflows/*.yaml" in broken.stdout + broken.stderr
