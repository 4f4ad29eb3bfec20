"""Forms of sign-in, the account page and user administration."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from crm.vocab import ROLES, label


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class TotpForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$",
                                                                  message="must be 6 digits")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class RecoveryCodeForm(FlaskForm):
    """The second-factor step without the phone: one of the printed recovery codes."""

    recovery_code = StringField("Recovery code", validators=[DataRequired(), Length(max=40)],
                                render_kw={"autocomplete": "off", "autocapitalize": "none",
                                           "spellcheck": "false"})


class NewRecoveryCodesForm(FlaskForm):
    """New recovery codes replace the old ones; the password proves it is the user asking."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})


class TokenForm(FlaskForm):
    name = StringField("Label", validators=[DataRequired(), Length(max=80)])


def _optional_id(value) -> int | None:
    """A select's value as an id; the empty "—" option is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


_ROLE_CHOICES = [SelectChoice(r, label(r)) for r in ROLES]


class _UserFields(FlaskForm):
    display_name = StringField("Display name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=_ROLE_CHOICES)
    district_id = SelectField("District", coerce=_optional_id, validators=[Optional()])

    def set_districts(self, districts) -> None:
        self.district_id.choices = [SelectChoice(None, "—")] + [
            SelectChoice(d.id, f"{d.code} {d.name}") for d in districts]


class UserCreateForm(_UserFields):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocapitalize": "none"})
    beats = StringField("Beats (codes, comma-separated)", validators=[Length(max=2000)])
    password = PasswordField("Initial password (12+ characters)",
                             validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})

    def beat_codes(self) -> list[str]:
        raw = (self.beats.data or "").replace(";", ",")
        return [c.strip() for c in raw.split(",") if c.strip()]


class UserEditForm(_UserFields):
    version_id = HiddenField()
    beat_ids = SelectMultipleField("Beats", coerce=int)
    groups = StringField("Assign groups (unit; names separated by ;)",
                         validators=[Length(max=4000)])
    active = BooleanField("Active")
    new_password = PasswordField("New password (leave empty to keep the current one)",
                                 validators=[Optional(), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})

    def set_beats(self, beats) -> None:
        self.beat_ids.choices = [SelectChoice(b.id, f"{b.code} {b.name}") for b in beats]

    def group_names(self) -> list[str]:
        return [n.strip() for n in (self.groups.data or "").split(";") if n.strip()]


class UnlockForm(FlaskForm):
    """A button: lift the account's locks (CSRF-protected, nothing else to send)."""


class ResetSecondFactorForm(FlaskForm):
    """A button: clear the user's authenticator key and recovery codes (CSRF-protected)."""
