"""Every domain's models, imported once so the metadata (and Alembic) sees all tables."""

from crm.audit.models import AuditEvent
from crm.beats.models import Beat, District
from crm.cases.models import (CaseAction, CaseEvent, CaseIdea, CaseMeasure, CaseMeasureValue,
                              CaseParticipant, ProblemCase)
from crm.contacts.models import Contact, ContactGroup, ContactOfficer, ContactStakeholder
from crm.groups.models import CommunityGroup, GroupRelation, RelationshipStageChange
from crm.stakeholders.models import Membership, Stakeholder
from crm.users.models import ApiToken, BeatAssignment, User
from crm.wellbeing.models import WellbeingCheckin

__all__ = [
    "ApiToken", "AuditEvent", "Beat", "BeatAssignment", "CaseAction", "CaseEvent", "CaseIdea",
    "CaseMeasure", "CaseMeasureValue", "CaseParticipant", "CommunityGroup", "Contact",
    "ContactGroup", "ContactOfficer", "ContactStakeholder", "District", "GroupRelation",
    "Membership", "ProblemCase", "RelationshipStageChange", "Stakeholder", "User",
    "WellbeingCheckin",
]
