"""what a grouped case has been through: its resolution and its overdue deadlines

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Two columns of ``kntc_case_groups`` the ``prolonged`` hot spot reads (engine/groups.py):
``resolved_at``, when the case was resolved (``decide``, ``conclude``, ``answer``; NULL: not yet),
and ``overdues``, how many ``deadline.overdue`` it has had. Cases grouped before 0004 start at
NULL and 0: their past is not replayed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('kntc_case_groups', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('kntc_case_groups', sa.Column('overdues', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('kntc_case_groups', 'overdues')
    op.drop_column('kntc_case_groups', 'resolved_at')
