"""Index the engagement facts' day rows by beat and by officer, with their counts (issue 10):
a district's coverage sums a dozen beats' and officers' days from the index alone instead of
scanning every beat's and officer's days in the window.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-06 02:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0017'
branch_labels = None
depends_on = None

BEAT_COUNTS = ("n", "n_proactive", "n_receptive", "n_wary_hostile")
OFFICER_COUNTS = (*BEAT_COUNTS, "n_proactive_receptive", "n_groups_last")


def upgrade():
    op.create_index("ix_fact_beat_days_beat_day", "fact_beat_days",
                    ["beat_id", "day", *BEAT_COUNTS])
    op.create_index("ix_fact_officer_days_user_day", "fact_officer_days",
                    ["user_id", "day", *OFFICER_COUNTS])


def downgrade():
    op.drop_index("ix_fact_officer_days_user_day", table_name="fact_officer_days")
    op.drop_index("ix_fact_beat_days_beat_day", table_name="fact_beat_days")
