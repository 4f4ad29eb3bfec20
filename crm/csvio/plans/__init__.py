"""One planner per kind of record (see `base.Planner`)."""

from crm.csvio.plans.base import Planner, stakeholder_ref
from crm.csvio.plans.beats import BeatsPlanner
from crm.csvio.plans.contacts import (
                                      ContactsPlanner,
                                      contact_import_key,
                                      contact_natural_key,
                                      parse_when,
)
from crm.csvio.plans.groups import GroupsPlanner
from crm.csvio.plans.memberships import MembershipsPlanner
from crm.csvio.plans.relations import RelationsPlanner, current_relations
from crm.csvio.plans.stakeholders import StakeholdersPlanner

PLANNERS: dict[str, type[Planner]] = {p.kind: p for p in (
    BeatsPlanner, GroupsPlanner, StakeholdersPlanner, MembershipsPlanner, RelationsPlanner,
    ContactsPlanner)}

__all__ = ["PLANNERS", "Planner", "contact_import_key", "contact_natural_key",
           "current_relations", "parse_when", "stakeholder_ref"]
