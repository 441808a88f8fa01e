"""The staff console's conversation desk: who holds a conversation, notes, canned replies.

``conversations.assignee`` / ``claimed_at``: the staff member answering the owner now (a
handed-off conversation nobody holds is "waiting"); empty for existing rows, so every
conversation already with staff shows as waiting. ``conversation_notes``: what staff write down
for colleagues (never sent to owners). ``canned_replies``: 常用语, company-wide or a community's.
Inbound messages gain the status "for_staff" (a non-native enum: no schema change).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_conversations_assignee"), ["assignee"], unique=False)
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=160), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sender"], ["conversations.sender"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversation_notes") as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_notes_sender"), ["sender"], unique=False)
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("community", sa.String(length=32), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community"], ["communities.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canned_replies") as batch_op:
        batch_op.create_index(batch_op.f("ix_canned_replies_community"), ["community"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canned_replies") as batch_op:
        batch_op.drop_index(batch_op.f("ix_canned_replies_community"))
    op.drop_table("canned_replies")
    with op.batch_alter_table("conversation_notes") as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_notes_sender"))
    op.drop_table("conversation_notes")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_assignee"))
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("assignee")
