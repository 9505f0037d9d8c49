"""user roles: unknown roles normalised

The ``role`` and ``password_hash`` columns came with 0001; this revision turns any role outside
admin | annotator | reviewer (none were written by the app before accounts existed) into
'annotator', so existing users keep working. It changes data only: altering the column on SQLite
means rebuilding the ``user`` table, which the foreign keys of stored answers forbid.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE \"user\" SET role = 'annotator' WHERE role IS NULL OR role NOT IN ('admin', 'annotator', 'reviewer')"
    ))


def downgrade() -> None:
    pass  # the normalised roles are valid under 0001 too
