"""teams (leases, overlap, review, assignments)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00

``lease``: an item handed to a person, reserved until ``expires_at`` (the cross-process arbiter of
who may answer what); ``assignment``: an admin gave an item to named people.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ('lease', 'assignment'):
        columns = [
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('project_id', sa.Integer(), nullable=False),
            sa.Column('item_id', sa.Integer(), nullable=False),
            sa.Column('user_id', sa.Integer(), nullable=False),
        ]
        if name == 'lease':
            columns.append(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False))
        op.create_table(
            name, *columns,
            sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
            sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
            sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('item_id', 'user_id', name=f'uq_{name}_item_user'),
        )
        op.create_index(op.f(f'ix_{name}_item_id'), name, ['item_id'], unique=False)
        op.create_index(f'ix_{name}_project_user', name, ['project_id', 'user_id'], unique=False)
    _upgrade_review()  # review requests and judge scores: the block below


def downgrade() -> None:
    _downgrade_review()  # the block below
    for name in ('lease', 'assignment'):
        op.drop_index(f'ix_{name}_project_user', table_name=name)
        op.drop_index(op.f(f'ix_{name}_item_id'), table_name=name)
        op.drop_table(name)


# ---- review: review requests and the judge's score per suggestion ----
def _upgrade_review() -> None:
    op.create_table(
        'review_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('after_response_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['item.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_review_request_item_id'), 'review_request', ['item_id'], unique=False)
    with op.batch_alter_table('suggestion') as batch:
        batch.add_column(sa.Column('judge_score', sa.Float(), nullable=True))


def _downgrade_review() -> None:
    with op.batch_alter_table('suggestion') as batch:
        batch.drop_column('judge_score')
    op.drop_index(op.f('ix_review_request_item_id'), table_name='review_request')
    op.drop_table('review_request')
