"""When the SLA scheduler must look at a ticket next: ``tickets.sweep_at``, indexed.

The scheduler used to load every open or resolved ticket with its history on every sweep (every
15 s), so its cost and the dispatcher's heap grew with the tickets left open. It now reads only
``sweep_at <= now``; the domain sets the column on every change and the sweep plans the next
look with the community's times (Ticket.next_look). Tickets stored before this revision are
due at once: the first sweep looks at each (in batches) and plans it.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WATCHED = ("new", "assigned", "in_progress", "on_hold", "reopened", "resolved")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("sweep_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_tickets_sweep_at", ["sweep_at"])
    tickets = sa.table("tickets", sa.column("status", sa.String), sa.column("sweep_at"), sa.column("created_at"))
    op.execute(tickets.update().where(tickets.c.status.in_(WATCHED)).values(sweep_at=tickets.c.created_at))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_sweep_at")
        batch.drop_column("sweep_at")
