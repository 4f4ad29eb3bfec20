"""Controlled vocabularies shared by models, forms, imports and the API.

The analytics layer has its own copy of the orderings it needs (it imports nothing from
`crm`); `tests/test_vocab.py` keeps the two in step.
"""

ROLES = ("officer", "unit", "supervisor", "admin", "analyst")
# Staff who work with records (groups, people, contacts, cases): every role but the analyst,
# who only ever sees pseudonymised aggregates.
STAFF_ROLES = ("officer", "unit", "supervisor", "admin")
GROUP_KINDS = ("geographic", "demographic", "cultural", "faith", "business", "tenants",
               "youth", "advocacy", "agency", "informal", "other")
STANCES = ("receptive", "neutral", "wary", "hostile", "unknown")
# Ordered: later is a stronger relationship.
STAGES = ("none", "initial_contact", "rapport", "working_relationship", "collaborating_partner")
MEMBERSHIP_ROLES = ("leader", "member", "spokesperson", "liaison")
RELATION_TYPES = ("allied", "competing", "overlapping")
CHANNELS = ("foot_patrol", "meeting", "phone", "event", "visit", "online")
INITIATED_BY = ("proactive", "requested", "reactive")
TECHNIQUES = ("active_listening", "reframing", "collaborative_feedback",
              "normalising_ambivalence", "boundary_setting", "de_escalation")
ENFORCEMENT = ("none", "warning", "citation", "arrest")
SUBJECT_CATEGORIES = ("community_member", "representative", "partner_staff", "business_owner",
                      "other")
CONSENT_STATUSES = ("given", "withdrawn", "not_asked")
CASE_STAGES = ("scanning", "analysis", "response", "assessment", "closed")
PARTICIPANT_KINDS = ("group", "stakeholder", "officer", "agency")
PARTICIPANT_ROLES = ("co_producer", "affected_party", "resource", "competing_interest")
IDEA_STATUSES = ("proposed", "adopted", "declined")
OWNER_KINDS = ("officer", "stakeholder", "group", "agency")
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
AUDIT_OUTCOMES = ("success", "failure", "denied")


def label(value: str | None) -> str:
    """Human label for a vocabulary value: 'working_relationship' -> 'Working relationship'."""
    return (value or "").replace("_", " ").capitalize()
