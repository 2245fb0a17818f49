"""A workflow file written with one change, loaded: the error a user gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.loader import load_file


def broken_copy(good: Path, tmp_path: Path, old: str, new: str) -> str:
    """Load ``good`` with ``old`` replaced by ``new`` (``old`` must be there); the DefinitionError's text."""
    text = good.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / good.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(DefinitionError) as refused:
        load_file(path)
    return str(refused.value)
