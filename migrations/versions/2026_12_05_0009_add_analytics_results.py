"""Add analytics results: documents computed by background jobs, shared by every server.

One row per analytic, parameters hash and input versions (the unique key is the
single-flight guard: a version is requested, and computed, once).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analytic', sa.String(length=40), nullable=False),
    sa.Column('params_hash', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('versions_key', sa.String(length=200), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_results')),
    sa.UniqueConstraint('analytic', 'params_hash', 'versions_key',
                        name=op.f('uq_analytics_results_analytic_params_hash_versions_key'))
    )
    op.create_index('ix_analytics_results_latest', 'analytics_results',
                    ['analytic', 'params_hash', 'status', 'computed_at'], unique=False)


def downgrade():
    op.drop_index('ix_analytics_results_latest', table_name='analytics_results')
    op.drop_table('analytics_results')
