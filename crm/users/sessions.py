"""Session lifetime: 30 minutes idle, 12 hours absolute, checked server-side on every request."""

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
    if now - auth_at > current_app.config["SESSION_ABSOLUTE_TIMEOUT"]:
        return "Your session reached its 12-hour limit. Please sign in again."
    if now - seen_at > current_app.config["SESSION_IDLE_TIMEOUT"]:
        return "You were signed out after 30 minutes without activity."
    return None


def register_session_timeouts(app: Flask) -> None:
    app.config.setdefault("SESSION_IDLE_TIMEOUT", timedelta(minutes=30))
    app.config.setdefault("SESSION_ABSOLUTE_TIMEOUT", timedelta(hours=12))

    @app.before_request
    def enforce_session_timeouts():
        if request.endpoint in (None, "static") or request.environ.get("crm.auth") == "token":
            return None
        if "_user_id" not in session or not current_user.is_authenticated:
            return None
        if request.environ.get("crm.auth") == "token":  # set while loading the user above
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
