"""Application settings. The only module that reads the environment.

Each class is a complete configuration; `crm.create_app(config)` takes one of them (or a
subclass the tests build). `Config.from_env()` picks the class named by `CRM_ENV`
(development, production, testing), defaulting to development.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _development_secret_key() -> str:
    """Generate a secret once per checkout and keep it under instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// would pick psycopg2, which we do not ship.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(
        os.environ.get("DATABASE_URL", _sqlite_url(INSTANCE_DIR / "alliance.db"))
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    # Background queue of the network analytics (crm/network/jobs.py): "redis", "sqlite" or
    # "immediate"; unset means redis when REDIS_URL is set, else a SQLite file under instance/
    # with a worker thread inside the app process.
    ANALYTICS_QUEUE: str | None = os.environ.get("CRM_ANALYTICS_QUEUE") or None
    ANALYTICS_WORKER_THREAD = os.environ.get("CRM_ANALYTICS_WORKER_THREAD", "1") != "0"
    INSTANCE_DIR = INSTANCE_DIR
    MIGRATIONS_DIR = str(BASE_DIR / "migrations")

    # Sessions: cookie flags per issue "foundation"; Secure is switched on outside development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token instead
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # CSV uploads; anything bigger is refused with 413

    # Sign-in policy
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    ACCOUNT_INACTIVE_DAYS = 90
    TOTP_REQUIRED_ROLES = ("admin",)
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    LOGIN_RATE_LIMIT = "30 per minute"

    # Domain defaults
    HARD_TO_ENGAGE_DAYS = 90
    DEMO_CITY = os.environ.get("CRM_DEMO_CITY", "chicago")

    @staticmethod
    def from_env() -> type[Config]:
        name = os.environ.get("CRM_ENV", "development").lower()
        return {"development": DevelopmentConfig, "production": ProductionConfig,
                "testing": TestingConfig}[name]

    @classmethod
    def check(cls) -> None:
        """Fail at start-up rather than run with an unsafe setting."""
        if not cls.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set outside development")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SESSION_COOKIE_SECURE = False  # served over plain http on 127.0.0.1

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            cls.SECRET_KEY = _development_secret_key()


class ProductionConfig(Config):
    ENV_NAME = "production"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - tests only
    SESSION_COOKIE_SECURE = False
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite://")
    )
    TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False
    ANALYTICS_QUEUE = "immediate"  # background analytics jobs run inline
