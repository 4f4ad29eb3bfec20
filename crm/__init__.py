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

    from crm import cli, web
    from crm.extensions import configure_extensions, configure_proxy, register_login_loaders

    configure_extensions(app)
    from crm.ops.logs import install as keep_query_strings_out_of_access_logs
    keep_query_strings_out_of_access_logs()
    from crm.network import jobs
    jobs.init_app(app)  # the background queue of the network analytics
    configure_proxy(app)
    register_login_loaders()
    web.register_request_hooks(app)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    web.register_template_helpers(app)
    cli.register_cli(app)
    from crm.facts.listeners import register_listeners
    register_listeners(app)  # engagement facts follow every contact write
    return app
