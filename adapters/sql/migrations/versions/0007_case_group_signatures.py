"""stored signatures of grouped cases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``kntc_case_groups.signature``: what ``engine.grouping.encode_signature`` keeps of a grouped
case's text (a format version, its word count and its MinHash bins, 517 bytes), so a new letter's
candidates are confirmed without normalising and signing each again. Rows from before 0007 start
at NULL and are backfilled lazily: a candidate without a signature (or with one of another
``SIGNATURE_VERSION``) is signed from its text when it is next a candidate, and the signature
stored (``Transaction.save_signature``). The migration itself runs no kntc code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('kntc_case_groups', sa.Column('signature', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column('kntc_case_groups', 'signature')
