"""teams (leases, overlap, review, assignments)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00

``lease``: an item handed to a person, reserved until ``expires_at`` (the cross-process arbiter of
who may answer what); ``assignment``: an admin gave an item to named people.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


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


def downgrade() -> None:
    for name in ('lease', 'assignment'):
        op.drop_index(f'ix_{name}_project_user', table_name=name)
        op.drop_index(op.f(f'ix_{name}_item_id'), table_name=name)
        op.drop_table(name)
