"""suggestion payload: what a machine suggests beyond label names (span projects' spans)

``suggestion.payload`` holds structured suggestions, e.g. ``{"spans": [{start, end, label}]}`` of a
span project's suggester; None for classification suggestions. A nullable JSON column: no
existing row changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:00:00
"""
import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('suggestion', sa.Column('payload', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('suggestion') as batch:
        batch.drop_column('payload')
