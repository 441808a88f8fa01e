"""Staff accounts may name their WeCom (企业微信) UserID.

With it, a member's notices (new work, SLA warnings and escalations, chases, poor ratings) go to
WeCom as app messages (connectors/wecom); without it, to the log channel as before. Existing
accounts have none: nothing changes for them until an administrator links them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_column("wecom_userid")
