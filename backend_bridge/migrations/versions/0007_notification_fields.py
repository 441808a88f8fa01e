"""Notifications carry their content in structured form and how each one was delivered; channel state.

``fields`` holds what a ticket notice says (number, status, assignee, times) beside its text, so
a channel that must build its own message (a WeChat template message) need not parse the text.
``delivered_via`` records the path a channel took (the web chat's mailbox, WeChat's
customer-service API or a template message, …). Both are empty for existing rows.

``channel_state`` is what channels keep between calls and share between processes (an access
token, a message cursor, an owner who unsubscribed), with an optional expiry.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=32), nullable=True))
    op.create_table(
        "channel_state",
        sa.Column("name", sa.String(length=170), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("until", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("channel_state")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("delivered_via")
        batch_op.drop_column("fields")
