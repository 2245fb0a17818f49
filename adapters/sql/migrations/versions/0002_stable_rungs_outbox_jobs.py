"""stable rung identity, retries and dead items, scheduled jobs, outbox messages and channel leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Rungs were keyed by their position in the deadline's list (0, 1 = warnings, 2 = due); they are now
keyed by what they are: a warning by its fraction of the budget in per-mille, the due moment by
1000 (a period that adds a warning never shifts another's key). The data migration rewrites every
fired rung and every ledger's pointer with the warning fractions of the definition version the case
runs on (stored in ``kntc_definitions``), so no fired rung fires again and none is lost.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

DUE = 1000
_Json: Any = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

_definitions = sa.table('kntc_definitions', sa.column('hash', sa.String), sa.column('body', sa.Text))
_cases = sa.table('kntc_cases', sa.column('id', sa.String), sa.column('definition_hash', sa.String))
_deadlines = sa.table('kntc_deadlines', sa.column('case_id', sa.String), sa.column('name', sa.String),
                      sa.column('fired_through', sa.Integer))
_fired = sa.table('kntc_fired_rungs', sa.column('case_id', sa.String), sa.column('deadline', sa.String),
                  sa.column('cycle', sa.Integer), sa.column('rung', sa.Integer))


def upgrade() -> None:
    op.add_column('kntc_cases', sa.Column('priority', sa.String(length=8), nullable=False, server_default='normal'))
    # constant DDL (no value is spliced in): RENAME COLUMN reads the same on SQLite >= 3.25 and PostgreSQL
    op.execute(sa.text('ALTER TABLE kntc_deadlines RENAME COLUMN extra TO extended_by'))
    op.execute(sa.text('ALTER TABLE kntc_deadlines RENAME COLUMN next_rung TO fired_through'))
    op.add_column('kntc_deadlines', sa.Column('closed_by', sa.String(length=64), nullable=True))
    op.add_column('kntc_deadlines', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('kntc_deadlines', sa.Column('last_error', sa.Text(), nullable=True))
    op.add_column('kntc_outbox_cursors', sa.Column('held_by', sa.String(length=128), nullable=True))
    op.add_column('kntc_outbox_cursors', sa.Column('held_until', sa.DateTime(timezone=True), nullable=True))
    op.create_table('kntc_jobs',
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('slot', sa.String(length=64), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'subject', 'slot')
    )
    op.create_table('kntc_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('data', _Json, nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=160), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_kntc_outbox_channel_status_next', 'kntc_outbox', ['channel', 'status', 'next_attempt_at'])
    _rekey_rungs()


def _keys(body: str) -> dict[str, list[int]]:
    """Per deadline of a stored definition: the keys of its rungs by former position."""
    deadlines = json.loads(body).get('deadlines', {})
    return {name: [*(round(f * DUE) for f in sorted(spec.get('warn_at', [0.5, 0.8]))), DUE]
            for name, spec in deadlines.items()}


def _rekey_rungs() -> None:
    conn = op.get_bind()
    keys = {h: _keys(body) for h, body in conn.execute(sa.select(_definitions.c.hash, _definitions.c.body))}
    kind_of = dict(conn.execute(sa.select(_cases.c.id, _cases.c.definition_hash)).all())

    def key(case_id: str, deadline: str, position: int) -> int:
        found = keys.get(kind_of.get(case_id, ''), {}).get(deadline)
        if found is None:  # a deadline its definition does not know cannot fire again: keep it past due
            return DUE
        return found[min(position, len(found) - 1)]

    # former positions first move out of the way (negative), so no new key meets an old one
    conn.execute(sa.update(_fired).values(rung=-_fired.c.rung - 1))
    for case_id, deadline, cycle, negative in conn.execute(
            sa.select(_fired.c.case_id, _fired.c.deadline, _fired.c.cycle, _fired.c.rung)).all():
        conn.execute(sa.update(_fired).where(_fired.c.case_id == case_id, _fired.c.deadline == deadline,
                                             _fired.c.cycle == cycle, _fired.c.rung == negative)
                     .values(rung=key(case_id, deadline, -negative - 1)))
    for case_id, name, next_position in conn.execute(
            sa.select(_deadlines.c.case_id, _deadlines.c.name, _deadlines.c.fired_through)).all():
        through = key(case_id, name, next_position - 1) if next_position > 0 else 0
        conn.execute(sa.update(_deadlines).where(_deadlines.c.case_id == case_id, _deadlines.c.name == name)
                     .values(fired_through=through))


def downgrade() -> None:
    raise NotImplementedError("kntc does not migrate down from 0002: restore the backup taken before upgrading")
