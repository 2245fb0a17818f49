"""when a back-dated act happened

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``kntc_history.occurred_at``: the moment an act entered late happened
(``fire(..., occurred_at=...)``, DESIGN.md §4 "Back-entry"); NULL when it happened when it was
recorded (``at``). Rows from before 0006 start at NULL: their hashes, which never covered the
column, verify unchanged (``engine.model.chain_hash`` covers it only when set).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('kntc_history', sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('kntc_history', 'occurred_at')
