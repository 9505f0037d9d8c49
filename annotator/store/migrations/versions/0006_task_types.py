"""post-training task types (rating, preference, correction)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Post-training answers: shown order, ratings per criterion, edited text and diff, rationale.
    op.add_column('response', sa.Column('payload', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.drop_column('payload')
