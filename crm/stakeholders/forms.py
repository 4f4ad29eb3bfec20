"""Stakeholder forms: new (with a first group and the duplicate check), edit, merge."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.vocab import CONSENT_STATUSES, MEMBERSHIP_ROLES, STAGES, SUBJECT_CATEGORIES, label


def _choices(values):
    return [SelectChoice(v, label(v)) for v in values]


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class StakeholderForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("is required"), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    language = StringField("Language", validators=[Optional(), Length(max=40)])
    interpreter_needed = BooleanField("Needs an interpreter")
    data_subject_category = SelectField("Category", choices=_choices(SUBJECT_CATEGORIES),
                                        default="community_member")
    consent_status = SelectField("Consent", choices=_choices(CONSENT_STATUSES),
                                 default="not_asked")
    consent_on = DateField("Consent given on", validators=[Optional()])
    consent_method = StringField("Consent method (verbal, written…)",
                                 validators=[Optional(), Length(max=80)])
    consent_purpose = StringField("Consent purpose", validators=[Optional(), Length(max=200)])
    review_on = DateField("Review (retention) date", validators=[Optional()])

    FIELDS = ("name", "phone", "email", "language", "interpreter_needed", "data_subject_category",
              "consent_status", "consent_on", "consent_method", "consent_purpose", "review_on")

    def service_data(self) -> dict:
        return {k: getattr(self, k).data for k in self.FIELDS}


class NewStakeholderForm(StakeholderForm):
    group_id = SelectField("Group", coerce=_int_or_none, validate_choice=False)
    role = SelectField("Role in the group", choices=_choices(MEMBERSHIP_ROLES), default="member")
    create_anyway = BooleanField("None of these is the same person: create anyway")


class EditStakeholderForm(StakeholderForm):
    version_id = IntegerField(validators=[DataRequired()])
    stage = SelectField("Relationship stage", choices=_choices(STAGES))

    FIELDS = StakeholderForm.FIELDS + ("stage",)


class MergeForm(FlaskForm):
    into_id = IntegerField("Merge into person #", validators=[DataRequired("is required"),
                                                               NumberRange(min=1)])
