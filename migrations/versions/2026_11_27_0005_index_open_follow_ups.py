"""Index open follow-ups only (a partial index replaces the plain follow_up_on index):
the due-soon lists stay fast with a million contacts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:04:16.568537

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_follow_up_on')
        batch_op.create_index('ix_contacts_open_follow_ups', ['follow_up_on', 'id'], unique=False, sqlite_where=sa.text('follow_up_on IS NOT NULL AND follow_up_done_at IS NULL'), postgresql_where=sa.text('follow_up_on IS NOT NULL AND follow_up_done_at IS NULL'))



def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_follow_up_on', ['follow_up_on'], unique=False)
        batch_op.drop_index('ix_contacts_open_follow_ups', sqlite_where=sa.text('follow_up_on IS NOT NULL AND follow_up_done_at IS NULL'), postgresql_where=sa.text('follow_up_on IS NOT NULL AND follow_up_done_at IS NULL'))

