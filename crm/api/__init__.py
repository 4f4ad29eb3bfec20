"""The JSON API under /api/v1: flask-smorest builds the OpenAPI document from the schemas.

Each domain keeps its endpoints in `crm/<domain>/api.py` with a flask-smorest Blueprint
named `blp`; `API_MODULES` lists them, in the order they appear in the document.
"""

from __future__ import annotations

import importlib

from flask import Flask, request
from flask_smorest import Api

from crm.api.common import document_bounds
from crm.extensions import csrf

api = Api()

API_MODULES = [
    "crm.beats.api",
    "crm.groups.api",
    "crm.groups.memberships_api",
    "crm.groups.relations_api",
    "crm.stakeholders.api",
    "crm.contacts.api",
    "crm.contacts.followups_api",
    "crm.assignments.api",
    "crm.cases.api",
    "crm.network.api",
    "crm.wellbeing.api",
    "crm.handovers.api",
    "crm.evaluation.api",
    "crm.evaluation.surveys_api",
    "crm.officers.api",
    "crm.search.api",
]


def init_api(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Alliance CRM API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Community groups, stakeholders, contacts, cases and network "
                                "analytics. Authenticate with `Authorization: Bearer <token>` "
                                "(create one in your profile or with `flask crm token`) or the "
                                "browser session (unsafe methods then need the X-CSRFToken header)."},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
        }},
    })
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(document_bounds)  # a spec per app
    from crm.api.auth import require_api_user
    from crm.api.docs import bp as docs_bp

    names = {"api-docs"}  # flask-smorest's blueprint serving openapi.json: signed-in users only
    for module in API_MODULES:
        blp = importlib.import_module(module).blp
        # Token clients carry no CSRF token; session clients are checked in require_api_user.
        csrf.exempt(blp)
        api.register_blueprint(blp)
        names.add(blp.name)
    app.register_blueprint(docs_bp)

    @app.before_request
    def authenticate_api_calls():
        # An app-level hook: blueprints are module singletons shared by every app built.
        if request.blueprint in names:
            return require_api_user()
        return None
