from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from crm.wellbeing.services import COPING_MAX

STRESS_CHOICES = [SelectChoice(1, "1 · calm"), SelectChoice(2, "2"), SelectChoice(3, "3"),
                  SelectChoice(4, "4"), SelectChoice(5, "5 · very stressed")]


class CheckinForm(FlaskForm):
    stress_level = RadioField("How stressed do you feel?", choices=STRESS_CHOICES, coerce=int,
                              validators=[InputRequired("choose a level from 1 to 5")])
    boundary_crossed = BooleanField("A boundary was crossed (mine or theirs)")
    coping = TextAreaField("What helped you cope (optional, only you see it)",
                           validators=[Optional(), Length(max=COPING_MAX)])
    debrief_wanted = BooleanField("I would like a debrief")
    contact_id = IntegerField("Contact number (optional, one of your own)",
                              validators=[Optional(), NumberRange(min=1)])
    occurred_at = DateTimeLocalField("When (optional, default now)", format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
