"""indexes for the reports: cases by receipt moment, history by event and moment

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``Engine.report`` (DESIGN §6c) counts cases received in a window and acts of some events
(accepted, resolved, extended...) in a window or first per case; these indexes let each of its
group-by queries read the rows it counts rather than the whole table. No row is touched; the
migration runs no kntc code.
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_kntc_cases_received_at', 'kntc_cases', ['received_at'], unique=False)
    op.create_index('ix_kntc_history_event_at', 'kntc_history', ['event', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kntc_history_event_at', table_name='kntc_history')
    op.drop_index('ix_kntc_cases_received_at', table_name='kntc_cases')
