"""When a gateway last took an owner's message over to answer it: ``inbound_messages.claimed_at``.

A message still "received" may be in flight at another gateway (or at one killed mid-request).
A client's retry after IN_FLIGHT_FOR takes it over with one conditional UPDATE of this column, so
two retries at two gateways, or a retry and the backlog sweep, never both send it to the dialogue
engine; the message is then in flight again from this time, not from its arrival. Existing rows
keep NULL: only their arrival's attempt has answered them.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("claimed_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("claimed_at")
