from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, SelectChoice, SelectField

from crm.csvio.services import KINDS
from crm.vocab import label

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportForm(FlaskForm):
    kind = SelectField("Kind of records", choices=[SelectChoice(k, label(k)) for k in KINDS])
    file = FileField("CSV file (UTF-8, header row first)", validators=[
        FileRequired("Choose a CSV file."),
        FileSize(MAX_UPLOAD_BYTES, message="The file is larger than 20 MB; use the command line."),
    ])
    dry_run = BooleanField("Check only: report what would change and write nothing")
