"""Add engagement facts: contact summaries kept current by every contact write.

Latest contact per group (any, proactive, requested), per officer and group, per officer and
beat; group-contacts per beat and day and per officer and day (proactive, with receptive and
with wary or hostile groups). Hard-to-engage and coverage read these instead of the contacts.
The upgrade fills them from the existing records (what `flask crm facts rebuild` does).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_COUNTS = ('n', 'n_proactive', 'n_receptive', 'n_wary_hostile')


def _count_columns(*names):
    return [sa.Column(n, sa.Integer(), server_default='0', nullable=False) for n in names]


def upgrade():
    op.create_table('fact_group_last',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.Column('last_proactive_at', sa.DateTime(), nullable=True),
    sa.Column('last_requested_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'],
                            name=op.f('fk_fact_group_last_group_id_community_groups'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_fact_group_last'))
    )
    op.create_table('fact_officer_group_last',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['community_groups.id'],
                            name=op.f('fk_fact_officer_group_last_group_id_community_groups'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_fact_officer_group_last'))
    )
    op.create_index('ix_fact_officer_group_last_last_at', 'fact_officer_group_last',
                    ['last_at', 'user_id'], unique=False)
    op.create_table('fact_officer_beat_last',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'beat_id', name=op.f('pk_fact_officer_beat_last'))
    )
    op.create_table('fact_beat_days',
    *_count_columns(*_COUNTS),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'beat_id', name=op.f('pk_fact_beat_days')),
    sqlite_with_rowid=False
    )
    op.create_table('fact_officer_days',
    *_count_columns(*_COUNTS),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    *_count_columns('n_proactive_receptive', 'n_groups_last'),
    sa.PrimaryKeyConstraint('day', 'user_id', name=op.f('pk_fact_officer_days')),
    sqlite_with_rowid=False
    )
    _fill()


def _fill():
    """The rebuild, frozen as SQL: the facts of the contacts already recorded."""
    pg = op.get_bind().dialect.name == 'postgresql'
    day = 'CAST(c.occurred_at AS DATE)' if pg else 'date(c.occurred_at)'
    last_day = 'CAST(last_at AS DATE)' if pg else 'date(last_at)'
    pairs = ('FROM contacts c JOIN contact_officers co ON co.contact_id = c.id '
             'JOIN contact_groups cg ON cg.contact_id = c.id '
             'JOIN community_groups g ON g.id = cg.group_id')
    pro = "c.initiated_by = 'proactive'"
    rec = "g.stance = 'receptive'"
    wh = "g.stance IN ('wary', 'hostile')"

    def s(cond):
        return f'COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)'

    counts = f'count(*), {s(pro)}, {s(rec)}, {s(wh)}'
    for sql in (
        "INSERT INTO fact_group_last (group_id, last_at, last_proactive_at, last_requested_at) "
        "SELECT group_id, max(occurred_at), "
        "max(CASE WHEN initiated_by = 'proactive' THEN occurred_at END), "
        "max(CASE WHEN initiated_by = 'requested' THEN occurred_at END) "
        "FROM contact_groups GROUP BY group_id",
        f'INSERT INTO fact_officer_group_last (user_id, group_id, last_at) '
        f'SELECT co.user_id, cg.group_id, max(c.occurred_at) {pairs} GROUP BY co.user_id, cg.group_id',
        f'INSERT INTO fact_officer_beat_last (user_id, beat_id, last_at) '
        f'SELECT co.user_id, COALESCE(c.beat_id, 0), max(c.occurred_at) {pairs} '
        f'GROUP BY co.user_id, COALESCE(c.beat_id, 0)',
        f'INSERT INTO fact_beat_days (day, beat_id, n, n_proactive, n_receptive, n_wary_hostile) '
        f'SELECT {day}, COALESCE(c.beat_id, 0), {counts} {pairs} '
        f'GROUP BY {day}, COALESCE(c.beat_id, 0)',
        f'INSERT INTO fact_officer_days (day, user_id, n, n_proactive, n_receptive, '  # noqa: S608 (constants only)
        f'n_wary_hostile, n_proactive_receptive, n_groups_last) '
        f'SELECT t.*, COALESCE(r.n, 0) FROM ('
        f'SELECT {day} AS day, co.user_id AS user_id, {counts}, {s(pro + " AND " + rec)} {pairs} '
        f'GROUP BY {day}, co.user_id) t LEFT JOIN ('
        f'SELECT {last_day} AS day, user_id, count(*) AS n FROM fact_officer_group_last '
        f'GROUP BY {last_day}, user_id) r ON r.day = t.day AND r.user_id = t.user_id',
    ):
        op.execute(sql)


def downgrade():
    op.drop_table('fact_officer_days')
    op.drop_table('fact_beat_days')
    op.drop_table('fact_officer_beat_last')
    op.drop_index('ix_fact_officer_group_last_last_at', table_name='fact_officer_group_last')
    op.drop_table('fact_officer_group_last')
    op.drop_table('fact_group_last')
