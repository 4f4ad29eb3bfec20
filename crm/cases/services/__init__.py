"""Problem-solving cases (SARA) run with the community: every change goes through here.

Each change writes exactly one `CaseEvent` on the case's timeline (who, what, when; field
edits with before/after) and one audit event, then flushes. Nothing here commits, and
nothing here knows the request: a refusal is a `crm.errors` DomainError (ValidationError
naming the fields, ConflictError for a stale version, ForbiddenError, NotFoundError).

One module per part of a case:

| module | what |
|---|---|
| `rules` | who may create or change a case, labels, snapshots, the version check |
| `lookups` | beats, groups, people and officers a case may point at, within the actor's scope |
| `scope` | the scope a new lead or participant gains, granted only by someone who holds it |
| `timeline` | the timeline entry and audit event of every change |
| `cases` | open, edit, move through SARA |
| `participants` | who is involved; competing-group warnings |
| `heard` | contacts linked to the analysis |
| `ideas`, `actions`, `measures` | the community's ideas, the response's actions, assessment |
| `queries` | reads for pages and the API |
"""

from .actions import (
                      action_owner,
                      add_action,
                      is_overdue,
                      overdue_actions_for,
                      overdue_actions_in_scope,
                      overdue_condition,
                      overdue_counts,
                      update_action,
)
from .cases import allowed_moves, create_case, move_case, stage_guard_errors, update_case
from .heard import link_contact, unlink_contact, visible_case_contacts
from .ideas import add_idea, idea_credit, update_idea
from .lookups import (
                      as_id,
                      officer_choices,
                      selectable_beats,
                      selectable_groups,
                      selectable_stakeholders,
)
from .measures import add_measure, add_measure_value
from .participants import add_participant, competing_warnings, participant_name, remove_participant
from .queries import (
                      beat_choices,
                      beat_codes,
                      case_list_query,
                      cases_for_figures,
                      contact_choices,
                      get_case,
                      get_part,
                      group_choices,
                      list_filter_choices,
                      load_case_options,
                      people_choices,
                      reload_case,
                      stakeholder_ids_of,
                      unit_members,
                      user_name,
                      visible_people_names,
                      visible_stakeholder_ids,
)
from .rules import (
                      CREATE_ROLES,
                      EDIT_ROLES,
                      OPEN_ACTION_STATUSES,
                      TEXT_FIELDS,
                      action_snapshot,
                      can_create,
                      can_edit,
                      can_update_action,
                      case_snapshot,
                      field_label,
                      idea_snapshot,
                      require_create,
                      require_edit,
)
from .scope import case_subjects, check_grant

__all__ = [
    "CREATE_ROLES", "EDIT_ROLES", "OPEN_ACTION_STATUSES", "TEXT_FIELDS", "action_owner",
    "action_snapshot", "add_action", "as_id", "require_create", "require_edit", "add_idea", "add_measure", "add_measure_value",
    "add_participant", "allowed_moves", "beat_choices", "beat_codes", "can_create", "can_edit",
    "can_update_action", "case_list_query", "case_snapshot", "case_subjects",
    "cases_for_figures", "check_grant", "competing_warnings", "contact_choices", "create_case",
    "field_label", "get_case", "get_part", "group_choices", "idea_credit", "idea_snapshot",
    "is_overdue", "link_contact", "list_filter_choices", "load_case_options", "move_case",
    "officer_choices", "overdue_actions_for", "overdue_actions_in_scope", "overdue_condition",
    "overdue_counts", "participant_name", "people_choices", "reload_case",
    "remove_participant", "selectable_beats", "selectable_groups", "selectable_stakeholders", "stage_guard_errors",
    "stakeholder_ids_of", "unit_members", "unlink_contact", "update_action", "update_case",
    "update_idea", "user_name", "visible_case_contacts", "visible_people_names",
    "visible_stakeholder_ids",
]
