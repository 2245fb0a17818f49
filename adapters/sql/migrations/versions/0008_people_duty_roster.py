"""officers imported into the database, and the duty roster

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

New tables only: ``kntc_people`` (officers imported with ``kntc people import``; a row replaces
the ``config.yaml`` officer of the same id) and ``kntc_duty_roster`` (who receives citizens on
which local day, ``kntc roster import``). No existing row is touched. The migration runs no kntc
code.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_Json: Any = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('kntc_people',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('roles', _Json, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('channels', _Json, server_default='[]', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kntc_duty_roster',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('day', 'person_id')
    )


def downgrade() -> None:
    op.drop_table('kntc_duty_roster')
    op.drop_table('kntc_people')
