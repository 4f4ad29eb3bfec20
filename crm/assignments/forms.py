"""Assignment forms: assign a visit; the one-tap cancel and ask-for-introduction buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, NumberRange

from crm.assignments.models import MAX_ASSIGNMENT_NOTE
from crm.contacts.forms import limited


class AssignForm(FlaskForm):
    group_id = HiddenField(validators=[DataRequired("is required")])
    officer_id = SelectField("Officer", coerce=int, validate_choice=False,
                             validators=[DataRequired("choose an officer")])
    due_on = DateField("Visit by", validators=[DataRequired("is required (YYYY-MM-DD)")])
    note = TextAreaField("Note for the officer", **limited(MAX_ASSIGNMENT_NOTE))


class IntroductionForm(FlaskForm):
    """One tap on a chain: the target group and the chain's first person (checked server-side)."""
    group_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
    stakeholder_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


class ButtonForm(FlaskForm):
    """Only the CSRF token."""
