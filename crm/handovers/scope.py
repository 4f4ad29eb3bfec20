"""What a transferred hand-over grants its successors, and takes from the leaving officer.

Plain selects for `crm.access` and the follow-up lists, so the rules live in one place:
a successor sees the people, groups and follow-ups the plan handed to them (nothing else
of the old beat unless it is now theirs); the leaving officer, once their assignment to the
beat has ended, no longer sees the people they handed over merely because they once met them.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from crm.handovers.models import Handover, HandoverItem
from crm.timezones import local_today
from crm.users.models import BeatAssignment


def _granted(user_id: int, kind: str, column) -> sa.Select:
    return (sa.select(column).join(Handover, Handover.id == HandoverItem.handover_id)
            .where(HandoverItem.successor_id == user_id, HandoverItem.kind == kind,
                   Handover.status == "transferred", column.is_not(None)))


def granted_stakeholder_ids(user_id: int) -> sa.Select:
    return _granted(user_id, "stakeholder", HandoverItem.stakeholder_id)


def granted_group_ids(user_id: int) -> sa.Select:
    return _granted(user_id, "group", HandoverItem.group_id)


def granted_contact_ids(user_id: int) -> sa.Select:
    """Contacts whose open follow-up was handed to the user."""
    return _granted(user_id, "follow_up", HandoverItem.contact_id)


def handed_away_contact_ids(user_id: int) -> sa.Select:
    """Contacts whose follow-up the user handed to someone else: no longer theirs to do."""
    return (sa.select(HandoverItem.contact_id).join(Handover, Handover.id == HandoverItem.handover_id)
            .where(Handover.leaving_officer_id == user_id, HandoverItem.kind == "follow_up",
                   Handover.status == "transferred", HandoverItem.contact_id.is_not(None)))


def handed_away_stakeholder_ids(user_id: int, today: date | None = None) -> sa.Select:
    """People the user handed over on a beat they are no longer assigned to."""
    today = today or local_today()
    still_there = sa.exists().where(BeatAssignment.user_id == user_id,
                                    BeatAssignment.beat_id == Handover.beat_id,
                                    BeatAssignment.current_on(today))
    return (sa.select(HandoverItem.stakeholder_id)
            .join(Handover, Handover.id == HandoverItem.handover_id)
            .where(Handover.leaving_officer_id == user_id, HandoverItem.kind == "stakeholder",
                   Handover.status == "transferred", ~still_there,
                   HandoverItem.stakeholder_id.is_not(None)))
