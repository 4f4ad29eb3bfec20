"""Every domain's models, imported once so the metadata (and Alembic) sees all tables."""

from crm.assignments.models import Assignment
from crm.audit.models import AuditEvent
from crm.beats.models import Beat, District
from crm.cases.models import (
                              CaseAction,
                              CaseEvent,
                              CaseIdea,
                              CaseMeasure,
                              CaseMeasureValue,
                              CaseParticipant,
                              ProblemCase,
                              case_beats,
                              case_contacts,
)
from crm.contacts.models import Contact, ContactGroup, ContactOfficer, ContactStakeholder
from crm.evaluation.models import (
                              SurveyCampaign,
                              SurveyResponse,
                              TrainingCompletion,
                              Trial,
                              TrialCrossover,
                              TrialUnit,
)
from crm.facts.models import (
                              BeatDay,
                              GroupLastContact,
                              OfficerBeatLast,
                              OfficerDay,
                              OfficerGroupLast,
)
from crm.groups.models import CommunityGroup, GroupRelation, RelationshipStageChange, group_beats
from crm.handovers.models import Handover, HandoverItem
from crm.network.models import DataVersion
from crm.privacy.models import StakeholderHistory
from crm.stakeholders.models import Membership, Stakeholder
from crm.users.models import ApiToken, BeatAssignment, GroupAssignment, RecoveryCode, User
from crm.wellbeing.models import WellbeingCheckin

__all__ = [
    "Assignment", "ApiToken", "AuditEvent", "Beat", "BeatAssignment", "CaseAction", "CaseEvent", "CaseIdea",
    "CaseMeasure", "CaseMeasureValue", "CaseParticipant", "CommunityGroup", "Contact",
    "GroupAssignment",
    "ContactGroup", "DataVersion", "ContactOfficer", "ContactStakeholder", "District", "GroupRelation",
    "Membership", "ProblemCase", "StakeholderHistory", "RelationshipStageChange", "Stakeholder", "User",
    "WellbeingCheckin", "case_beats", "case_contacts", "group_beats",
    "BeatDay", "GroupLastContact", "OfficerBeatLast", "OfficerDay", "OfficerGroupLast",
    "Handover", "HandoverItem", "RecoveryCode",
    "SurveyCampaign", "SurveyResponse", "TrainingCompletion", "Trial", "TrialCrossover", "TrialUnit",
]
