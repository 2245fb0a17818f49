"""Bad channels, routing, people and templates in config.yaml: refused at file:line, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.channels import build_channels
from adapters.config import load_settings
from engine.errors import ConfigError

HEAD = """database_url: sqlite:///k.db
organisation:
  units: [{id: thanh_tra, name: Thanh tra}]
"""


@pytest.mark.parametrize(("block", "line", "message"), [
    ("channels:\n  - {id: x, kind: fax}\n", 5, r"channels\.0.*(tag|kind)"),
    ("channels:\n  - {id: portal, kind: webhook, url: 'ftp://h/k', secret_env: K}\n", 5, r"channels\.0.*http"),
    ("channels:\n  - {id: portal, kind: webhook, url: 'http:///k', secret_env: K}\n", 5, r"channels\.0.*host"),
    ("channels:\n  - {id: mail, kind: smtp, host: h, port: 70000, sender: a@b.vn}\n", 5, r"channels\.0.*port"),
    ("channels:\n  - {id: log, kind: log}\n  - {id: log, kind: log}\n", 6, r"channels\.1\.id: 'log' is given twice"),
    ("notifications:\n  default_channels: [email]\n", 5, r"default_channels\.0: unknown channel 'email'"),
    ("notifications:\n  default_unit: phong_x\n", 5, r"notifications\.default_unit: unknown unit 'phong_x'"),
    ("people:\n  - {id: tp01, name: A, unit: phong_x, roles: [head_of_unit]}\n", 5,
     r"people\.0\.unit: unknown unit 'phong_x'"),
    ("people:\n  - {id: tp01, name: A, unit: thanh_tra, roles: [boss]}\n", 5, r"people\.0\.roles\.0: unknown role"),
    ("templates:\n  x:\n    subject: '{{ case.id '\n    body: b\n", 6, r"templates\.x\.subject"),
    ("templates:\n  x:\n    subject: '{{ petitioner.name }}'\n    body: b\n", 6, r"templates\.x\.subject.*petitioner"),
    ("templates:\n  x:\n    subject: s\n    body: '{{ to.email }}'\n", 7, r"templates\.x\.body.*email"),
    ("escalation:\n  rules:\n    - {id: r, on: case.opened, then: [{notify: {roles: [clerk], channel: sms}}]}\n", 6,
     r"escalation\.rules\.0\.then\.0\.notify\.channel: unknown channel 'sms'"),
    ("roster:\n  inspectorate_unit: phong_x\n", 5, r"roster\.inspectorate_unit: unknown unit 'phong_x'"),
])
def test_a_bad_entry_is_refused_at_its_line(tmp_path: Path, block: str, line: int, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + block, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"config\.yaml:{line}:\d+: .*{message}"):
        load_settings(path)


def test_a_missing_secret_is_refused_at_the_channel_line_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + "channels:\n  - {id: log, kind: log}\n"
                    "  - {id: portal, kind: webhook, url: 'https://portal.example/kntc', secret_env: KNTC_X_SECRET}\n"
                    "  - {id: mail, kind: smtp, host: 127.0.0.1, port: 2525, sender: a@so.example,\n"
                    "     username_env: KNTC_X_USER, password_env: KNTC_X_PASSWORD}\n", encoding="utf-8")
    settings = load_settings(path)
    with pytest.raises(ConfigError, match=r"config\.yaml:6:\d+: channels\.portal\.secret_env: .*KNTC_X_SECRET"):
        build_channels(settings, environ={})
    with pytest.raises(ConfigError, match=r"config\.yaml:8:\d+: channels\.mail\.username_env: .*KNTC_X_USER"):
        build_channels(settings, environ={"KNTC_X_SECRET": "s3cret"})
    built = build_channels(settings, environ={"KNTC_X_SECRET": "s3cret", "KNTC_X_USER": "u", "KNTC_X_PASSWORD": "p"})
    assert [c.name for c in built] == ["log", "portal", "mail"]


def test_no_channels_configured_is_the_log_channel(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD, encoding="utf-8")
    assert [c.name for c in build_channels(load_settings(path), environ={})] == ["log"]
