"""Hand-over forms: plan a move, name a successor, transfer, and the leaving officer's note."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Optional

from crm.contacts.forms import MaxChars
from crm.handovers.services import MAX_NOTE


class PlanForm(FlaskForm):
    officer_id = SelectField("Leaving officer", coerce=int, validators=[DataRequired()])
    beat_id = SelectField("Beat", coerce=int, validators=[DataRequired()])
    leaves_on = DateField("Last day on the beat", validators=[DataRequired("is not a date (YYYY-MM-DD)")])


class SuccessorForm(FlaskForm):
    successor_id = SelectField("Successor", coerce=int, validators=[DataRequired()])
    # None chosen: every item nobody has yet. Choose some to split the plan.
    item_ids = SelectMultipleField("Only these items", coerce=int, validators=[Optional()],
                                   validate_choice=False)


class TransferForm(FlaskForm):
    meet_by = DateField("Introductions due by", validators=[Optional()])


class NoteForm(FlaskForm):
    note = TextAreaField("Note for the successor", validators=[Optional(), MaxChars(MAX_NOTE)],
                         render_kw={"data-maxlength": MAX_NOTE, "rows": 2})
