"""Mutated config.yaml is refused with one ConfigError line (library) or one ``kntc: error:`` line (CLI).

Each example starts from the shipped ``config.yaml`` and breaks it (wrong types, unknown keys,
huge values, long and odd unicode text, deep nesting, duplicate keys, BOMs, alias cycles):
:func:`adapters.config.load_settings` and building the calendar either succeed or raise
:class:`ConfigError`; ``kntc validate CONFIG`` exits non-zero with ``kntc: error:`` lines and no
traceback.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cli import main
from adapters.config import load_settings
from engine.errors import ConfigError
from engine.loader import plain, read_yaml
from tests.fuzzing import NASTY, dump, mutate, paths
from tests.integration.cli_runner import kntc, refused

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config.yaml"
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@cache
def shipped() -> Any:
    """The shipped config.yaml as plain data, its workflows the shipped folder wherever the test writes it."""
    data = plain(read_yaml(CONFIG.read_text(encoding="utf-8"), source=str(CONFIG), what="config.yaml"))
    return {**data, "workflows_dir": str(ROOT / "workflows")}


@contextlib.contextmanager
def written(text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        yield path


def only_config_errors(text: str) -> None:
    """Load and use ``text`` as config.yaml; anything but success or one-line ConfigError fails the test."""
    with written(text) as path:
        try:
            loaded = load_settings(path)
            loaded.build_calendar()
            loaded.limits.limits()
        except ConfigError as exc:
            assert "\n" not in str(exc), "an error is one line"


def cli_validate(text: str) -> tuple[int, str]:
    """``kntc validate CONFIG`` in-process: its exit code and stderr."""
    err, out = io.StringIO(), io.StringIO()
    with written(text) as path, contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main(["validate", str(path)])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
    return code, err.getvalue()


@FUZZ
@given(data=st.data(), how=st.sampled_from(["replace", "replace", "replace", "drop", "wrap", "rename"]),
       value=NASTY)
def test_a_mutated_config_is_a_config_error(data: st.DataObject, how: str, value: Any) -> None:
    document = shipped()
    path = data.draw(st.sampled_from(paths(document)), label="path")
    only_config_errors(dump(mutate(document, path, how, value)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=NASTY)
def test_kntc_validate_of_a_mutated_config_prints_errors_never_a_traceback(data: st.DataObject, value: Any) -> None:
    document = shipped()
    path = data.draw(st.sampled_from(paths(document)), label="path")
    code, stderr = cli_validate(dump(mutate(document, path, "replace", value)))
    assert "Traceback" not in stderr
    if code:
        assert stderr and all(line.startswith("kntc: error: ") for line in stderr.splitlines()), stderr


TEXT_MUTATIONS: dict[str, Callable[[str], str]] = {
    "nul": lambda t: t.replace("timezone:", "time\x00zone:", 1),
    "duplicate key": lambda t: t + "\ntimezone: UTC\n",
    "tab": lambda t: "\t" + t,
    "alias cycle": lambda t: t + "\nextra: &a [*a]\n",
    "deep": lambda t: t + "\nextra: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    "huge int": lambda t: t + "\nescalation: {tick_seconds: " + "9" * 5000 + "}\n",
    "huge limit": lambda t: t + "\nlimits: {max_content_chars: " + "9" * 40 + "}\n",
    "unknown limit": lambda t: t + "\nlimits: {max_pages: 3}\n",
    "bad synchronous": lambda t: t + "\nsqlite_synchronous: off\n",
    "billion laughs": lambda t: t + "\n".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" if i else "l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"
        for i in range(8)) + "\n",
    "not a mapping": lambda t: "- a\n- b\n",
    "empty": lambda t: "",
    "a year 99999": lambda t: t.replace("2026-08-22", "99999-08-22", 1),
    "timezone with a newline": lambda t: t.replace("timezone: Asia/Ho_Chi_Minh", 'timezone: "Asia/\\nHo"', 1),
}


@pytest.mark.parametrize("mutation", sorted(TEXT_MUTATIONS))
def test_a_broken_config_text_is_one_config_error(mutation: str) -> None:
    text = TEXT_MUTATIONS[mutation](CONFIG.read_text(encoding="utf-8").replace(
        "workflows_dir: workflows", f"workflows_dir: {ROOT / 'workflows'}"))
    with written(text) as path, pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(str(path)), caught.value
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("mutation", ["duplicate key", "deep", "huge int", "bad synchronous"])
def test_the_real_kntc_validate_refuses_a_broken_config_on_one_line(mutation: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(TEXT_MUTATIONS[mutation](CONFIG.read_text(encoding="utf-8").replace(
        "workflows_dir: workflows", f"workflows_dir: {ROOT / 'workflows'}")), encoding="utf-8")
    line = refused(kntc(tmp_path / "kntc.db", "validate", str(config)))
    assert str(config) in line


def test_a_config_with_a_bom_loads_as_without() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    with written("\ufeff" + text) as with_bom, written(text) as without:
        assert load_settings(with_bom).organisation == load_settings(without).organisation
