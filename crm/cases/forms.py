"""Forms of the case pages. Choices are filled by the views; the services validate ids."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.vocab import (
    ACTION_STATUSES,
    CASE_STAGES,
    IDEA_STATUSES,
    OWNER_KINDS,
    PARTICIPANT_KINDS,
    PARTICIPANT_ROLES,
    label,
)
from crm.web.forms import FiniteFloatField
from crm.web.picker import PickerField


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(values, blank: str | None = None):
    out = [SelectChoice(v, label(v)) for v in values]
    return ([SelectChoice("", blank)] + out) if blank is not None else out


class VersionedForm(FlaskForm):
    """An edit form that carries the version it started from (crm.web.forms.version_of)."""

    version_id = HiddenField()


class CaseForm(VersionedForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    problem_statement = TextAreaField("Problem statement: what the community and the police see")
    beat_ids = PickerField("Beats", kind="beat", multi=True, area=True,
                           validators=[DataRequired("Choose at least one beat.")])
    lead_id = PickerField("Lead", kind="officer")

    FIELDS = ("title", "problem_statement", "beat_ids", "lead_id")


class AnalysisForm(VersionedForm):
    place = TextAreaField("Place: where it happens")
    place_managers = TextAreaField("Place managers: who can act on the place")
    victim_target = TextAreaField("Victim / target: who or what is harmed")
    guardians = TextAreaField("Guardians: who can protect them")
    offender = TextAreaField("Offender: who causes the harm")
    handlers = TextAreaField("Handlers: who has influence on them")
    analysis = TextAreaField("Analysis: why it happens, what we heard")

    FIELDS = ("place", "place_managers", "victim_target", "guardians", "offender", "handlers",
              "analysis")


class ResponseForm(VersionedForm):
    response_plan = TextAreaField("Response plan")

    FIELDS = ("response_plan",)


class AssessmentForm(VersionedForm):
    assessment = TextAreaField("Assessment: did the response work?")
    community_verdict = TextAreaField("Community verdict: what the community says")

    FIELDS = ("assessment", "community_verdict")


SECTIONS = {"details": CaseForm, "analysis": AnalysisForm, "response": ResponseForm,
            "assessment": AssessmentForm}


class MoveForm(VersionedForm):
    to = SelectField("Move to", choices=_choices(CASE_STAGES), validate_choice=False)
    reason = StringField("Reason (needed to go back or reopen)", validators=[Length(max=500)])


class ParticipantForm(FlaskForm):
    kind = SelectField("Who", choices=_choices(PARTICIPANT_KINDS), validate_choice=False)
    role = SelectField("Role", choices=_choices(PARTICIPANT_ROLES), validate_choice=False)
    group_id = PickerField("Group", kind="group")
    stakeholder_id = PickerField("Person", kind="person")
    user_id = PickerField("Officer", kind="officer")
    agency = StringField("Partner agency", validators=[Length(max=200)])


class IdeaForm(FlaskForm):
    text = TextAreaField("Idea", validators=[DataRequired()])
    proposed_by_group_id = PickerField("Proposed by group", kind="group")
    proposed_by_stakeholder_id = PickerField("or by person", kind="person")


class IdeaDecisionForm(VersionedForm):
    status = SelectField("Decision", choices=_choices(IDEA_STATUSES), validate_choice=False)
    decline_reason = StringField("Reason (when declined)", validators=[Length(max=1000)])
    proposer_told_on = DateField("Proposer told on", validators=[Optional()])


class ActionForm(VersionedForm):
    description = TextAreaField("Action", validators=[DataRequired()])
    owner_kind = SelectField("Owned by", choices=_choices(OWNER_KINDS), validate_choice=False)
    owner_user_id = PickerField("Officer", kind="officer")
    owner_stakeholder_id = PickerField("Person", kind="person")
    owner_group_id = PickerField("Group", kind="group")
    owner_agency = StringField("Partner agency", validators=[Length(max=200)])
    liaison_user_id = PickerField("Liaison officer (for community or agency actions)",
                                  kind="officer")
    due_on = DateField("Due on", validators=[Optional()])
    status = SelectField("Status", choices=_choices(ACTION_STATUSES), validate_choice=False)
    outcome = TextAreaField("Outcome")

    FIELDS = ("description", "owner_kind", "owner_user_id", "owner_stakeholder_id",
              "owner_group_id", "owner_agency", "liaison_user_id", "due_on", "status", "outcome")


class MeasureForm(FlaskForm):
    name = StringField("Measure", validators=[DataRequired(), Length(max=200)])
    unit = StringField("Unit", validators=[Length(max=60)])
    baseline_value = FiniteFloatField("Baseline value", validators=[Optional()])
    baseline_on = DateField("Baseline measured on", validators=[Optional()])


class MeasureValueForm(FlaskForm):
    measured_on = DateField("Measured on", validators=[InputRequired("Enter a date.")])
    value = FiniteFloatField("Value", validators=[InputRequired("Enter a number.")])
    note = StringField("Note", validators=[Length(max=300)])


class ContactLinkForm(FlaskForm):
    contact_id = SelectField("Contact", coerce=optional_int, validate_choice=False,
                             validators=[InputRequired("Choose a contact.")])


class ConfirmForm(FlaskForm):
    """Just the CSRF token, for small buttons (unlink, remove)."""
