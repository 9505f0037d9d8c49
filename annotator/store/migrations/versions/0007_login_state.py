"""login state in the database: session versions, failed-login throttle

``user.session_version`` (bumped by a password reset or a role change, so every process ends the
logins made before it) and ``login_failure`` (the failed-login throttle, shared by every process and
kept across restarts). Existing users start at version 0.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 01:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default fills the existing rows; ADD COLUMN with one works on SQLite without a rebuild.
    op.add_column('user', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'login_failure',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('login_failure') as batch:
        batch.create_index(batch.f('ix_login_failure_last_failure'), ['last_failure'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failure') as batch:
        batch.drop_index(batch.f('ix_login_failure_last_failure'))
    op.drop_table('login_failure')
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): rebuilding ``user`` in a batch would break the
    # foreign keys of stored answers.
    op.drop_column('user', 'session_version')
