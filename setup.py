"""Build hook: the wheel ships ``workflows/*.yaml`` and ``config.yaml`` as package data in ``engine/_data/``.

The top-level ``workflows/`` folder and ``config.yaml`` stay where operators edit them; at build
time they are copied into the wheel, where :func:`engine.testing.shipped_path` finds them with
importlib.resources. A build without them fails with one line, rather than produce a wheel that
cannot find its own workflows. Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def shipped_files(root: Path = ROOT) -> list[Path]:
    """The files the wheel must carry, relative to ``root``; SystemExit with one line when any is missing."""
    workflows = sorted((root / "workflows").glob("*.yaml"))
    if not workflows or not (root / "config.yaml").is_file():
        raise SystemExit(f"kntc build: {root}/workflows/*.yaml and {root}/config.yaml must exist "
                         "(the wheel ships them as engine/_data)")
    return [Path("config.yaml"), *(w.relative_to(root) for w in workflows)]


class BuildWithData(build_py):
    """``build_py`` that also copies the shipped workflows and config into ``engine/_data``."""

    def run(self) -> None:
        """Build the packages, then add the data files."""
        super().run()
        target = Path(self.build_lib) / "engine" / "_data"
        for relative in shipped_files():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, target / relative)


setup(cmdclass={"build_py": BuildWithData})
