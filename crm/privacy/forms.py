from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.privacy.services import REASON_MAX
from crm.vocab import CONSENT_STATUSES, SUBJECT_CATEGORIES, label


class KeepForm(FlaskForm):
    """Keep a record past its review date, with the reason (audited)."""

    reason = TextAreaField("Why keep it", validators=[
        DataRequired("is required: say why the record is still needed"), Length(max=REASON_MAX)])
    until = DateField("Review again on (default: in one year; at most three years)",
                      validators=[Optional()])
    version_id = HiddenField()


class EraseForm(FlaskForm):
    """Erase a person's data; the confirmation box guards against a stray tap."""

    reason = TextAreaField("Why erase it", validators=[
        DataRequired("is required: say why"), Length(max=REASON_MAX)])
    confirm = BooleanField("I understand this removes the person's data for good",
                           validators=[InputRequired("tick the box to confirm")])
    version_id = HiddenField()


class ConsentForm(FlaskForm):
    status = SelectField("Consent", choices=[SelectChoice(s, label(s)) for s in CONSENT_STATUSES])
    consent_on = DateField("Date given or withdrawn", validators=[Optional()])
    method = StringField("How (e.g. signed form, verbal at a meeting)",
                         validators=[Optional(), Length(max=80)])
    purpose = StringField("For what purpose", validators=[Optional(), Length(max=200)])
    category = SelectField("Data subject category",
                           choices=[SelectChoice(c, label(c)) for c in SUBJECT_CATEGORIES])
    version_id = HiddenField()
