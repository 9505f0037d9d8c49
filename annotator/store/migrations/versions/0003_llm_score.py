"""llm_score: LLM results cached in the store by (model, prompt hash, rendered prompt)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'llm_score',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('prompt_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index(op.f('ix_llm_score_model'), 'llm_score', ['model'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_llm_score_model'), table_name='llm_score')
    op.drop_table('llm_score')
