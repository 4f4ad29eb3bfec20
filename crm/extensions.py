"""Extension singletons, bound to the app in `crm.create_app`."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.db import Base

# hide_parameters: SQL errors and logs never carry the values (names, phones) bound to a query.
db = SQLAlchemy(model_class=Base, engine_options={"hide_parameters": True})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Keyed by request.remote_addr: the client's address once `configure_proxy` has run.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def configure_extensions(app) -> None:
    import crm.models  # noqa: F401  (every table on the metadata before Alembic looks)
    from crm.db import configure_sqlite
    from crm.ops import checkpoint

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
        checkpoint.configure(db.engine, app.config.get("SQLITE_CHECKPOINT_SECONDS", 0))
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", "migrations")),
                     compare_type=True, render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)


def configure_proxy(app) -> None:
    """Behind TRUSTED_PROXIES proxies, take the client's address and scheme from the
    X-Forwarded-For/-Proto headers they set (rate limits, throttles and the audit trail see
    the client, not the proxy). With 0 the headers are ignored: anyone could send them."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_login_loaders() -> None:
    """Where Flask-Login finds the user: the session cookie, or an API bearer token."""
    from crm.api.auth import load_user_from_bearer
    from crm.users.services import load_user

    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_bearer)
