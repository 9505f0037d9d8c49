"""user roles: server default 'annotator', unknown roles normalised

The ``role`` and ``password_hash`` columns came with 0001; this revision makes ``role`` default to
'annotator' in the database too and turns any role outside admin | annotator | reviewer (none
were written by the app before accounts existed) into 'annotator', so existing users keep working.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE \"user\" SET role = 'annotator' WHERE role IS NULL OR role NOT IN ('admin', 'annotator', 'reviewer')"
    ))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
                              existing_nullable=False, server_default='annotator')


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
                              existing_nullable=False, server_default=None)
