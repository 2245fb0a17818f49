"""forwarded letters, case flags and group transfers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``kntc_cases.forwarded_from``: who forwarded a letter, ``{"body", "level"}`` (NULL: not forwarded,
or not said); ``kntc_cases.flags``: the case's hot-spot flags (``engine.model.Flag``), written only
by ``set_case_flags``; ``kntc_case_groups.transferred_to``: the bodies a grouped case was transferred
to, in order, and an index on ``kntc_case_groups.received_at`` for ``groups_received_between``.
Rows from before 0005 start at NULL and ``[]``: their past is not replayed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_Json: Any = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('kntc_cases', sa.Column('forwarded_from', _Json, nullable=True))
    op.add_column('kntc_cases', sa.Column('flags', _Json, server_default='[]', nullable=False))
    op.add_column('kntc_case_groups', sa.Column('transferred_to', _Json, server_default='[]', nullable=False))
    op.create_index('ix_kntc_case_groups_received_at', 'kntc_case_groups', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kntc_case_groups_received_at', table_name='kntc_case_groups')
    op.drop_column('kntc_case_groups', 'transferred_to')
    op.drop_column('kntc_cases', 'flags')
    op.drop_column('kntc_cases', 'forwarded_from')
