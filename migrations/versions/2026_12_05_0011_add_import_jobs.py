"""Add import_jobs: background CSV imports and their progress (issue 11 item 16).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('dry_run', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='queued', nullable=False),
        sa.Column('path', sa.String(length=500), server_default='', nullable=False),
        sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
        sa.Column('rows_total', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rows_checked', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rows_written', sa.Integer(), server_default='0', nullable=False),
        sa.Column('committed_rows', sa.Integer(), server_default='0', nullable=False),
        sa.Column('summary', sa.Text(), server_default='', nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("status IN ('queued', 'checking', 'writing', 'done', 'failed')",
                           name=op.f('ck_import_jobs_status_valid')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_import_jobs_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_jobs_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_jobs_user_id'))
    op.drop_table('import_jobs')
