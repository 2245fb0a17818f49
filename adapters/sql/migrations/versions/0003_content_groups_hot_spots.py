"""content groups (a case's group, its LSH band keys) and hot spots

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

New tables only (DESIGN.md §6): ``kntc_groups``, ``kntc_case_groups`` (a case's group, its
respondent key and receipt moment), ``kntc_group_bands`` (the LSH band keys of each case, found by
key through the primary key's index) and ``kntc_hot_spots``. Cases opened before 0003 belong to no
group until they are grouped; nothing of theirs is rewritten.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_Json: Any = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('kntc_groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('kntc_case_groups',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('respondent_key', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_index('ix_kntc_case_groups_group_id', 'kntc_case_groups', ['group_id'])
    op.create_index('ix_kntc_case_groups_respondent_key', 'kntc_case_groups', ['respondent_key'])
    op.create_table('kntc_group_bands',
    sa.Column('band', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('band', 'case_id')
    )
    op.create_table('kntc_hot_spots',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('case_ids', _Json, nullable=False),
    sa.Column('reasons', _Json, nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_kntc_hot_spots_group_id', 'kntc_hot_spots', ['group_id'])


def downgrade() -> None:
    op.drop_index('ix_kntc_hot_spots_group_id', table_name='kntc_hot_spots')
    op.drop_table('kntc_hot_spots')
    op.drop_table('kntc_group_bands')
    op.drop_index('ix_kntc_case_groups_respondent_key', table_name='kntc_case_groups')
    op.drop_index('ix_kntc_case_groups_group_id', table_name='kntc_case_groups')
    op.drop_table('kntc_case_groups')
    op.drop_table('kntc_groups')
