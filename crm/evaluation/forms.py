from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional

from crm.evaluation.models import CROSSOVER_KINDS
from crm.evaluation.services import OUTCOMES, SCALE


class CompletionForm(FlaskForm):
    officer = StringField("Officer (username)", validators=[InputRequired(), Length(max=80)])
    module = SelectField("Module", choices=[])
    completed_on = DateField("Completed on", validators=[InputRequired("a date YYYY-MM-DD")])
    trainer = StringField("Trainer", validators=[Optional(), Length(max=120)])


class TrainingImportForm(FlaskForm):
    file = FileField("CSV file: officer,module,completed_on[,trainer]")


class CampaignForm(FlaskForm):
    name = StringField("Name (e.g. Spring wave)", validators=[InputRequired(), Length(max=120)])
    group_id = IntegerField("Group number", validators=[Optional()])
    beat_code = StringField("or beat code", validators=[Optional(), Length(max=20)])
    opens_on = DateField("Opens on", validators=[InputRequired("a date YYYY-MM-DD")])
    closes_on = DateField("Closes on", validators=[InputRequired("a date YYYY-MM-DD")])


def answer_form(items):
    """A form with one optional 1..5 radio per survey item (nothing else can be typed)."""
    class AnswerForm(FlaskForm):
        pass
    choices = [SelectChoice(str(k), v) for k, v in SCALE.items()]
    for item in items:
        setattr(AnswerForm, f"q_{item['key']}", RadioField(item["text"], choices=choices,
                                                           validators=[Optional()]))
    return AnswerForm()


class TrialForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    unit = SelectField("Unit of randomisation", choices=[SelectChoice("beat", "beat"),
                                                          SelectChoice("officer", "officer")])
    strata = SelectField("Strata", choices=[SelectChoice("district", "district"), SelectChoice("none", "none")])
    baseline_start = DateField("Baseline from", validators=[InputRequired("a date YYYY-MM-DD")])
    baseline_end = DateField("Baseline to", validators=[InputRequired("a date YYYY-MM-DD")])
    follow_up_start = DateField("Follow-up from", validators=[InputRequired("a date YYYY-MM-DD")])
    follow_up_end = DateField("Follow-up to", validators=[InputRequired("a date YYYY-MM-DD")])
    outcomes = SelectMultipleField("Pre-registered outcomes", choices=[SelectChoice(o, o) for o in OUTCOMES])
    seed = IntegerField("Seed", validators=[InputRequired("a whole number")])
    eligible = StringField("Eligible units (comma-separated; empty: every unit with a baseline contact)",
                           validators=[Optional(), Length(max=20000)])
    arms_visible_to_supervisors = BooleanField("Supervisors may see which arm their units are in")


class CrossoverForm(FlaskForm):
    unit_key = StringField("Unit (beat code or username)", validators=[InputRequired(), Length(max=80)])
    kind = SelectField("What happened", choices=[SelectChoice(k, k.replace("_", " ")) for k in CROSSOVER_KINDS])
    occurred_on = DateField("On", validators=[InputRequired("a date YYYY-MM-DD")])
