"""Alliance CRM: a community-engagement CRM for police (the "Proactive Alliance" approach)."""

from __future__ import annotations

from flask import Flask

from config import BASE_DIR, Config


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the app. Reads like a table of contents; each step lives in its own module."""
    config = config or Config.from_env()
    config.check()
    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"),
                static_folder=str(BASE_DIR / "static"), instance_path=str(config.INSTANCE_DIR))
    app.config.from_object(config)

    from crm import cli, timezones, web
    from crm.extensions import configure_extensions, configure_proxy, register_login_loaders
    from crm.network import jobs, live_share
    from crm.ops.logs import install as keep_query_strings_out_of_access_logs

    timezones.init_app(app)  # the department's time zone, checked at start-up
    configure_extensions(app)
    keep_query_strings_out_of_access_logs()
    jobs.init_app(app)  # the background queue of the network analytics
    live_share.init_app(app)  # coverage and hard-to-engage computed once per machine
    configure_proxy(app)
    register_login_loaders()
    register_session_listeners(app)
    web.register_request_hooks(app)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    web.register_template_helpers(app)
    cli.register_cli(app)
    return app


def register_session_listeners(app: Flask) -> None:
    """What every ORM session does besides writing: refuse audit edits, keep the erasure
    ledger and the audit anchor, bump data versions, wipe erased data, update the facts."""
    from crm.audit import anchor
    from crm.audit import services as audit
    from crm.facts import listeners as facts
    from crm.network import services as network
    from crm.ops import ledger
    from crm.privacy import services as privacy

    audit.register_listeners()
    ledger.register_listeners()
    anchor.register_listeners()
    network.register_listeners()
    privacy.register_listeners()
    facts.register_listeners(app)  # engagement facts follow every contact write
