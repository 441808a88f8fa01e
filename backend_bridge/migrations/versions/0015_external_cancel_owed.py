"""A cancellation owed to the external property system: ``tickets.external_cancel_owed_at``, indexed.

An owner can withdraw an open ticket from the chat; one already created in the company's system
must be cancelled there too, or their technicians still go. The withdrawal sets this column in
its own transaction and the call clears it once they have the cancellation, so a system that is
down, or a process that dies between the two, leaves the debt on record for SyncTickets to pay.
Tickets the owner withdrew before this revision, after they were created there, owe it from when
they were closed: they were never sent, so the sweep sends them once.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("external_cancel_owed_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_tickets_external_cancel_owed_at", ["external_cancel_owed_at"])
    # Withdrawn = cancelled by its own sender (Ticket.withdrawn), as the history records it.
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("sender", sa.String),
        sa.column("external_id", sa.String),
        sa.column("closed_at"),
        sa.column("external_cancel_owed_at"),
    )
    events = sa.table(
        "ticket_events",
        sa.column("ticket_id", sa.Integer),
        sa.column("type", sa.String),
        sa.column("status", sa.String),
        sa.column("actor", sa.String),
    )
    by_owner = (
        sa.select(events.c.ticket_id)
        .where(events.c.ticket_id == tickets.c.id, events.c.type == "status", events.c.status == "cancelled")
        .where(events.c.actor == tickets.c.sender)
        .exists()
    )
    op.execute(
        tickets.update()
        .where(tickets.c.status == "cancelled", tickets.c.external_id.is_not(None), by_owner)
        .values(external_cancel_owed_at=tickets.c.closed_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_external_cancel_owed_at")
        batch.drop_column("external_cancel_owed_at")
