"""Alliance CRM network analytics: pure functions over plain data.

No Flask, no database: the adapter turns rows into the input records of
:mod:`analytics.types` (or numpy id arrays) and results back into names via each
result's ``to_dict()``. Nodes in mixed graphs are typed: ``("stakeholder", 17)``,
``("group", 4)``, ``("officer", 3)``.
"""

from .brokers import Broker, BrokersResult, brokers, membership_graph
from .engagement import (
    STANCE_WEIGHT,
    BeatCoverage,
    CoverageResult,
    EngagementFlag,
    HardToEngageResult,
    OfficerCoverage,
    coverage,
    hard_to_engage,
)
from .factions import FactionsResult, FrustratedRelation, Mediator, factions
from .introductions import IntroductionChain, introductions
from .overlap import OverlapPair, OverlapResult, overlap
from .synthetic import synthetic_memberships
from .types import (
    INITIATED_BY,
    RELATION_TYPES,
    STAGES,
    STANCES,
    ContactRecord,
    GroupContactFacts,
    GroupInfo,
    OfficerContactCount,
    OfficerLink,
    Relation,
    count_officer_contacts,
    in_window,
    stage_rank,
    summarize_contacts,
)

__all__ = [
    # inputs
    "STANCES", "STAGES", "INITIATED_BY", "RELATION_TYPES",
    "GroupInfo", "Relation", "ContactRecord", "GroupContactFacts", "OfficerContactCount",
    "OfficerLink", "summarize_contacts", "count_officer_contacts", "in_window", "stage_rank",
    # analyses
    "overlap", "OverlapResult", "OverlapPair",
    "factions", "FactionsResult", "FrustratedRelation", "Mediator",
    "brokers", "BrokersResult", "Broker", "membership_graph",
    "introductions", "IntroductionChain",
    "hard_to_engage", "HardToEngageResult", "EngagementFlag", "STANCE_WEIGHT",
    "coverage", "CoverageResult", "BeatCoverage", "OfficerCoverage",
    "synthetic_memberships",
]
