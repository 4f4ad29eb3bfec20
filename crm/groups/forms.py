"""Forms of the group pages. They check shapes (numbers, dates, choices); the services check
meaning (unique name, known beats, duplicate relations) and name the field that is wrong."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.groups.services import SORTS
from crm.stakeholders.languages import choices as language_choices
from crm.vocab import GROUP_KINDS, MEMBERSHIP_ROLES, RELATION_TYPES, STAGES, STANCES, label


def choices(values, blank: str | None = None, labels: dict | None = None) -> list[SelectChoice]:
    out = [SelectChoice(v, (labels or {}).get(v, label(v))) for v in values]
    return ([SelectChoice("", blank)] + out) if blank is not None else out


class GroupFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = StringField("Name contains", validators=[Optional(), Length(max=100)])
    beat = StringField("Beat code", validators=[Optional(), Length(max=20)])
    kind = SelectField("Kind", choices=choices(GROUP_KINDS, "Any kind"), validators=[Optional()])
    stance = SelectField("Stance", choices=choices(STANCES, "Any stance"), validators=[Optional()])
    stage = SelectField("Stage", choices=choices(STAGES, "Any stage"), validators=[Optional()])
    language = SelectField("Language",
                           choices=[SelectChoice("", "Any language")] + [
                               SelectChoice(code, name) for code, name in language_choices()],
                           validators=[Optional()])
    min_days = IntegerField("No contact for at least (days)",
                            validators=[Optional(), NumberRange(min=0, max=36500)])
    never = BooleanField("Never contacted only")
    sort = SelectField("Sort by", choices=choices(SORTS, labels={"days": "Days since last contact"}),
                       default="name", validators=[Optional()])
    order = SelectField("Order", choices=choices(("asc", "desc"), labels={"asc": "Ascending",
                                                                "desc": "Descending"}),
                        default="asc", validators=[Optional()])

    def sort_value(self) -> str:
        return self.sort.data if self.sort.data in SORTS else "name"


class GroupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=choices(GROUP_KINDS), default="other")
    stance = SelectField("Stance towards the police", choices=choices(STANCES), default="unknown")
    stage = SelectField("Relationship stage", choices=choices(STAGES), default="none")
    beats = StringField("Beats (codes, comma-separated)", validators=[Length(max=500)])
    size_estimate = IntegerField("Estimated size", validators=[Optional(), NumberRange(min=0)])
    languages = StringField("Languages (comma-separated)", validators=[Length(max=500)])
    channels = StringField("Preferred channels (comma-separated)", validators=[Length(max=500)])
    contact_interval_days = IntegerField("Stay in touch every (days)", default=30,
                                         validators=[InputRequired(), NumberRange(min=1, max=3650)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    version_id = HiddenField()

    def data_for_service(self) -> dict:
        return {"name": self.name.data, "kind": self.kind.data, "stance": self.stance.data,
                "stage": self.stage.data, "beats": self.beats.data or "",
                "size_estimate": self.size_estimate.data, "languages": self.languages.data or "",
                "channels": self.channels.data or "",
                "contact_interval_days": self.contact_interval_days.data,
                "description": self.description.data or ""}

    def fill_from(self, snapshot: dict) -> None:
        for key, value in snapshot.items():
            field = getattr(self, key, None)
            if field is not None:
                field.data = ", ".join(value) if isinstance(value, list) else value


class RelationForm(FlaskForm):
    group_b_id = SelectField("Other group", coerce=int, validators=[InputRequired()])
    type = SelectField("Relation", choices=choices(RELATION_TYPES), default="allied")
    issue = StringField("Issue at stake", validators=[Length(max=300)])
    starts_on = DateField("Since", validators=[Optional()])


class RelationEditForm(FlaskForm):
    type = SelectField("Relation", choices=choices(RELATION_TYPES))
    issue = StringField("Issue at stake", validators=[Length(max=300)])
    starts_on = DateField("Since", validators=[Optional()])
    ends_on = DateField("Ended on (leave empty while current)", validators=[Optional()])
    version_id = HiddenField()


class EndForm(FlaskForm):
    """End a relation or a membership on a date (today when left empty)."""

    ends_on = DateField("Ended on", validators=[Optional()])
    version_id = HiddenField()


class MembershipForm(FlaskForm):
    stakeholder_id = IntegerField("Person", validators=[InputRequired(message="choose a person")])
    role = SelectField("Role", choices=choices(MEMBERSHIP_ROLES), default="member")
    starts_on = DateField("Since", validators=[Optional()])


class MembershipEditForm(FlaskForm):
    role = SelectField("Role", choices=choices(MEMBERSHIP_ROLES))
    starts_on = DateField("Since", validators=[Optional()])
    ends_on = DateField("Ended on (leave empty while current)", validators=[Optional()])
    version_id = HiddenField()
