"""seal the parties stored in plain text

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Until 0009 ``kntc_parties.data`` held each petitioner's name, id number, address and contact as
plain JSON. 0010 seals every one of them with the store's key (``adapters/secrets.py``:
``KNTC_SECRET_KEY``, else a SQLite file's key file): ``data`` becomes ``{"sealed": "<Fernet
token>"}``, the row's marker. No column changes.

Page by page, in (case id, idx) order, each row rewritten in one UPDATE: a row is plain or sealed,
never half of either, and a row already sealed is skipped, so a run that stops part-way (the whole
upgrade is one transaction: it is then rolled back) runs again from the start and ends the same.
The store reads both forms, so nothing is lost either way. SQLite's ``secure_delete`` is on while
it runs: the freed plain text is overwritten, not left in the file's free pages.

PostgreSQL without ``KNTC_SECRET_KEY`` and with plain parties stored: refused (ConfigError),
nothing changed. The downgrade opens them again (with the key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from adapters.secrets import SEALED, Cipher, load_cipher

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: rows read and rewritten per statement round
PAGE = 500

_parties = sa.table("kntc_parties", sa.column("case_id", sa.String), sa.column("idx", sa.Integer),
                    sa.column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))


def _cipher(bind: sa.Connection) -> Cipher:
    postgres = bind.dialect.name == "postgresql"
    return load_cipher(postgres=postgres, sqlite_path=None if postgres else bind.engine.url.database)


def _rewrite(change: Callable[[Mapping[str, Any]], Mapping[str, Any] | None]) -> int:
    """Apply ``change`` to every stored party, a page at a time; how many rows it rewrote."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    after: tuple[str, int] = ("", -1)
    done = 0
    while True:
        page = bind.execute(sa.select(_parties.c.case_id, _parties.c.idx, _parties.c.data)
                            .where(sa.tuple_(_parties.c.case_id, _parties.c.idx) > sa.tuple_(*after))
                            .order_by(_parties.c.case_id, _parties.c.idx).limit(PAGE)).all()
        if not page:
            return done
        for case_id, idx, data in page:
            new = change(data)
            if new is not None:
                bind.execute(sa.update(_parties).where(_parties.c.case_id == case_id, _parties.c.idx == idx)
                             .values(data=dict(new)))
                done += 1
        after = (page[-1][0], page[-1][1])


def upgrade() -> None:
    cipher: Cipher | None = None

    def seal(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
        nonlocal cipher
        if SEALED in data:
            return None
        if cipher is None:  # only a database with plain parties needs the key
            cipher = _cipher(op.get_bind())
        return cipher.seal(data)

    _rewrite(seal)


def downgrade() -> None:
    cipher = _cipher(op.get_bind())
    _rewrite(lambda data: cipher.open(data) if SEALED in data else None)
