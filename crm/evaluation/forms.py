from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from crm.evaluation.services import SCALE


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
