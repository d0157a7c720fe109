"""allocated value for the daily cap; leader lease and daemon heartbeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 07:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allocated_value', bot.db.types.Money(length=64), nullable=True))

    op.create_table('leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('daemons',
    sa.Column('instance_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('host', sa.String(length=128), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instance_id')
    )
    with op.batch_alter_table('daemons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daemons_heartbeat_at'), ['heartbeat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('daemons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daemons_heartbeat_at'))
    op.drop_table('daemons')
    op.drop_table('leases')
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_column('allocated_value')
