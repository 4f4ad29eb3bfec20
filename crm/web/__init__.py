"""Request boundary, blueprints, error pages and template helpers."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from crm.audit import reads
from crm.errors import ConflictError, DomainError, ValidationError, http_message
from crm.extensions import db
from crm.vocab import label


def register_request_hooks(app: Flask) -> None:
    from crm.users.sessions import register_session_timeouts
    from crm.web import read_slots
    from crm.web.converters import register_input_bounds

    read_slots.init_app(app)  # analytics reads take turns, so writes find a free core
    register_input_bounds(app)  # the <id:...> converter and the NUL / out-of-range guards
    register_session_timeouts(app)

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                     "base-uri 'none'")
        if not app.debug and not app.testing:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages and API answers may carry personal data: never keep them in a cache.
        if request.endpoint not in ("static", "api_docs.asset"):
            h["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def commit_once_per_request(response):
        """The one commit of a request: services only flush. Anything 4xx/5xx rolls back.

        Registered after `security_headers` so it runs first and a replaced answer gets them.

        A concurrent edit that slipped past every earlier flush loses here: the answer
        becomes the 409 instead of the success it was about to be (nothing was saved).
        """
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            reads.write_noted_reads()  # audited reads go last: the chain's lock is short
            db.session.commit()
        except StaleDataError as e:
            db.session.rollback()
            return app.make_response(_conflict_response(e))
        return response

    # Registered last, so it runs first: a page's slot is free once the page is built, not
    # held while its commit waits for the database (an audited read is a write).
    read_slots.release_after_request(app)


def register_blueprints(app: Flask) -> None:
    from crm.api import init_api
    from crm.assignments.views import bp as assignments_bp
    from crm.audit.views import bp as audit_bp
    from crm.briefings.views import bp as briefings_bp
    from crm.cases.views import bp as cases_bp
    from crm.contacts.views import bp as contacts_bp
    from crm.csvio.views import bp as csvio_bp
    from crm.evaluation.views import bp as evaluation_bp
    from crm.evaluation.views import public_bp as survey_public_bp
    from crm.groups.views import bp as groups_bp
    from crm.handovers.views import bp as handovers_bp
    from crm.help.views import bp as help_bp
    from crm.home.views import bp as home_bp
    from crm.network.views import bp as network_bp
    from crm.officers.views import bp as officers_bp
    from crm.offline.views import bp as offline_bp
    from crm.privacy.views import bp as privacy_bp
    from crm.search.views import bp as search_bp
    from crm.stakeholders.views import bp as stakeholders_bp
    from crm.users.admin import bp as admin_users_bp
    from crm.users.views import bp as auth_bp
    from crm.web.picker import bp as picker_bp
    from crm.wellbeing.views import bp as wellbeing_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(csvio_bp)
    for bp in (groups_bp, stakeholders_bp, contacts_bp, cases_bp, network_bp, privacy_bp,
               wellbeing_bp, audit_bp, admin_users_bp, offline_bp, assignments_bp):
        app.register_blueprint(bp)
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(survey_public_bp)
    app.register_blueprint(handovers_bp)
    app.register_blueprint(officers_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(briefings_bp)
    app.register_blueprint(picker_bp)
    app.register_blueprint(help_bp)
    init_api(app)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _conflict_response(e: Exception):
    """409 for a lost race (StaleDataError: someone committed between our check and UPDATE)."""
    from crm.web.forms import STALE_MESSAGE

    if _wants_json():
        return jsonify(code=409, status="ConflictError", message=STALE_MESSAGE, current={}), 409
    return render_template("error.html", code=409, message=STALE_MESSAGE), 409


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        msg = "The form expired or was sent from another site. Reload the page and try again."
        if _wants_json():
            return jsonify(code=400, status="Bad Request", message=msg), 400
        return render_template("error.html", code=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        message = http_message(e.code, e.description, type(e).description)
        if _wants_json():
            body = {"code": e.code, "status": e.name, "message": message}
            messages = (getattr(e, "data", None) or {}).get("messages")
            if messages:  # webargs/marshmallow: one message list per field
                body["errors"] = messages
            return jsonify(body), e.code
        return render_template("error.html", code=e.code, message=message), e.code

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        """Services refuse with a DomainError; the API gets JSON, pages a readable message."""
        db.session.rollback()  # the refused work may have left a failed flush behind
        body = {"code": e.status, "status": type(e).__name__, "message": str(e)}
        if isinstance(e, ValidationError):
            body["errors"] = {"json": e.errors}
        if isinstance(e, ConflictError):
            body["current"] = e.current
        if _wants_json():
            return jsonify(body), e.status
        return render_template("error.html", code=e.status, message=str(e)), e.status

    @app.errorhandler(StaleDataError)
    def lost_race(e: StaleDataError):
        """Two simultaneous edits: the loser gets the 409, never a 500."""
        db.session.rollback()
        return _conflict_response(e)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        # Generic page; the traceback goes to the log, never to the user.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.debug and not app.testing:
            raise e
        msg = "Something went wrong on our side. Nothing you typed was saved; please try again."
        if _wants_json():
            return jsonify(code=500, status="Internal Server Error", message=msg), 500
        return render_template("error.html", code=500, message=msg), 500


def register_template_helpers(app: Flask) -> None:
    from crm.timezones import local_date, local_today
    from crm.web.nav import nav_links

    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["nav_links"] = nav_links

    @app.template_filter("days_ago")
    def days_ago(value) -> str:
        if value is None:
            return "never"
        n = (local_today() - local_date(value)).days  # the department's days
        return "today" if n == 0 else ("1 day ago" if n == 1 else f"{n} days ago")
