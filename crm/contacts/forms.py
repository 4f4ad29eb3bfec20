"""Contact forms: the one-screen log form, the note/follow-up edit, the follow-up done button.

Choices that depend on the user (beats, co-officers) are set by the view; people and
groups arrive as ids and are checked against the user's scope by the service.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from crm.timezones import LocalTimeError, from_local
from crm.vocab import CHANNELS, ENFORCEMENT, INITIATED_BY, STAGES, TECHNIQUES, label


class MaxChars:
    """Refuse text over `max` characters with the field's message; never cut it.

    No `maxlength` attribute: a browser silently cuts a paste to it (a 5,000-character note
    became 2,000). The field carries `data-maxlength` instead, read by static/char-counter.js.
    """

    def __init__(self, max: int):
        self.max = max
        self.field_flags: dict = {}

    def __call__(self, form, field):
        n = len(field.data or "")
        if n > self.max:
            raise ValidationError(f"must be at most {self.max} characters (now {n}); nothing "
                                  "was cut: shorten it and send again")


def one_newline(value):
    """Browsers send a typed newline as CRLF: count it as the one character the officer sees."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def limited(max_len: int, *validators) -> dict:
    """Keyword arguments of a free-text field limited to `max_len` characters."""
    return {"validators": [*validators, Optional(), MaxChars(max_len)],
            "filters": [one_newline], "render_kw": {"data-maxlength": max_len}}


def int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(values):
    return [SelectChoice(v, label(v)) for v in values]


class ContactForm(FlaskForm):
    idempotency_key = HiddenField(validators=[Length(max=64)])
    occurred_at = DateTimeLocalField("When", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                                                    "%Y-%m-%d %H:%M"], validators=[DataRequired("is required")])
    beat_id = SelectField("Beat", coerce=int_or_none, validate_choice=False)
    place = StringField("Place", **limited(200))
    channel = RadioField("Channel", choices=_choices(CHANNELS), default="foot_patrol")
    initiated_by = RadioField("Initiated by", choices=_choices(INITIATED_BY), default="proactive")
    purpose = StringField("Purpose", **limited(200))
    stakeholder_ids = SelectMultipleField("People", coerce=int, validate_choice=False)
    new_name = StringField("New person: name", **limited(200))
    new_phone = StringField("New person: phone", **limited(40))
    new_email = StringField("New person: email", **limited(254))
    group_ids = SelectMultipleField("Groups", coerce=int, validate_choice=False)
    officer_ids = SelectMultipleField("Co-officers", coerce=int, validate_choice=False)
    techniques = SelectMultipleField("Techniques used", choices=_choices(TECHNIQUES))
    stage_after = SelectField("Relationship stage after",
                              choices=[SelectChoice("", "Unchanged"), *_choices(STAGES)], default="")
    enforcement = SelectField("Enforcement action", choices=_choices(ENFORCEMENT), default="none")
    note = TextAreaField("Short note", **limited(2000))
    follow_up_on = DateField("Follow up on", validators=[Optional()])
    follow_up_note = StringField("Follow-up note", **limited(300))

    def validate_occurred_at(self, field):
        """Typed in local time (crm.timezones): a time the clocks skipped is refused here."""
        if field.data is not None:
            try:
                from_local(field.data)
            except LocalTimeError as e:
                raise ValidationError(str(e)) from None

    def service_data(self) -> dict:
        when = self.occurred_at.data
        return {
            "occurred_at": from_local(when) if when is not None else None,  # stored as UTC
            "beat_id": self.beat_id.data,
            "place": self.place.data, "channel": self.channel.data,
            "initiated_by": self.initiated_by.data, "purpose": self.purpose.data,
            "stakeholder_ids": self.stakeholder_ids.data or [],
            "group_ids": self.group_ids.data or [], "officer_ids": self.officer_ids.data or [],
            "techniques": self.techniques.data or [], "stage_after": self.stage_after.data,
            "enforcement": self.enforcement.data, "note": self.note.data,
            "follow_up_on": self.follow_up_on.data, "follow_up_note": self.follow_up_note.data,
            "new_stakeholder": {"name": self.new_name.data, "phone": self.new_phone.data,
                                "email": self.new_email.data},
        }


class ContactEditForm(FlaskForm):
    version_id = IntegerField(validators=[DataRequired()])
    place = StringField("Place", **limited(200))
    purpose = StringField("Purpose", **limited(200))
    note = TextAreaField("Short note", **limited(2000))
    follow_up_on = DateField("Follow up on", validators=[Optional()])
    follow_up_note = StringField("Follow-up note", **limited(300))

    def service_data(self) -> dict:
        return {"place": self.place.data, "purpose": self.purpose.data, "note": self.note.data,
                "follow_up_on": self.follow_up_on.data, "follow_up_note": self.follow_up_note.data}


class DoneForm(FlaskForm):
    """Only the CSRF token: marking a follow-up done is one tap."""
