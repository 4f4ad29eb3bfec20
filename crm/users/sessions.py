"""Session lifetime, checked server-side on every request: SESSION_IDLE_TIMEOUT without
activity, SESSION_ABSOLUTE_TIMEOUT after sign-in (config.py; 30 minutes and 12 hours)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from crm.db import utcnow


def start_session() -> None:
    now = utcnow().isoformat()
    session["auth_at"] = now
    session["seen_at"] = now


def _expired() -> str | None:
    now = utcnow()
    try:
        auth_at = datetime.fromisoformat(session["auth_at"])
        seen_at = datetime.fromisoformat(session["seen_at"])
    except (KeyError, ValueError):
        return "Please sign in again."
    limit, idle = (current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
                   current_app.config["SESSION_IDLE_TIMEOUT"])
    # The messages name the configured limits, so they stay true when the settings change.
    if now - auth_at > limit:
        return f"Your session reached its limit of {_duration(limit)}. Please sign in again."
    if now - seen_at > idle:
        return f"You were signed out after {_duration(idle)} without activity."
    return None


def _duration(span: timedelta) -> str:
    """12 hours, 30 minutes, 1 hour 30 minutes."""
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((hours, "hour"), (minutes, "minute")) if n]
    return " ".join(parts) or f"{int(span.total_seconds())} seconds"


def register_session_timeouts(app: Flask) -> None:
    @app.before_request
    def enforce_session_timeouts():
        if request.endpoint in (None, "static") or "_user_id" not in session:
            return None
        if not current_user.is_authenticated:  # loads the user: sets crm.auth for a token
            return None
        if request.environ.get("crm.auth") == "token":
            return None
        reason = _expired()
        if reason:
            logout_user()
            session.clear()
            if request.path.startswith("/api/"):
                return {"code": 401, "status": "Unauthorized", "message": reason}, 401
            flash(reason, "info")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        session["seen_at"] = utcnow().isoformat()
        return None
