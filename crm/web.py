"""Request boundary, blueprints, error pages and template helpers."""

from __future__ import annotations

from datetime import date

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from crm.extensions import db
from crm.vocab import label


def register_request_hooks(app: Flask) -> None:
    @app.after_request
    def commit_once_per_request(response):
        """The one commit of a request: services only flush. Anything 4xx/5xx rolls back."""
        if response.status_code < 400 and not g.get("rollback_only"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        if not app.debug and not app.testing:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_blueprints(app: Flask) -> None:
    from crm.csvio.views import bp as csvio_bp
    from crm.home.views import bp as home_bp
    from crm.users.views import bp as auth_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(csvio_bp)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        msg = "The form expired or was sent from another site. Reload the page and try again."
        if _wants_json():
            return jsonify(error="csrf", message=msg), 400
        return render_template("error.html", code=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if _wants_json():
            return jsonify(error=e.name, message=e.description), e.code
        return render_template("error.html", code=e.code, message=e.description), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        # Generic page; the traceback goes to the log, never to the user.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.debug and not app.testing:
            raise e
        msg = "Something went wrong on our side. Nothing you typed was saved; please try again."
        if _wants_json():
            return jsonify(error="Internal Server Error", message=msg), 500
        return render_template("error.html", code=500, message=msg), 500


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["label"] = label

    @app.template_filter("days_ago")
    def days_ago(value) -> str:
        if value is None:
            return "never"
        d = value.date() if hasattr(value, "date") else value
        n = (date.today() - d).days
        return "today" if n == 0 else ("1 day ago" if n == 1 else f"{n} days ago")
