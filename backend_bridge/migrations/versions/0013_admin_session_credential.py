"""The built-in administrator's console sessions remember which admin token they were granted on.

Signing in as ``admin`` takes WUYE_ADMIN_TOKEN as the password; no stored account stands behind
the session. Replacing the token (it leaked, someone left) must end every session opened with the
old one, as a new password ends a member's. ``credential`` holds the token's sha256; sessions of
before this migration have none and end at once (sign in again).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("credential", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("credential")
