"""Application settings. The only module that reads the environment.

Each class is a complete configuration; `crm.create_app(config)` takes one of them (or a
subclass the tests build). `Config.from_env()` picks the class named by `CRM_ENV`
(development, production, testing), defaulting to development.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
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


def _int_env(name: str, default: int | None) -> int | None:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def _worker_count() -> int:
    """How many gunicorn workers will serve this app, as far as we can tell at import time.

    gunicorn reads WEB_CONCURRENCY as its default worker count; `--workers N` / `-w N` may
    come in GUNICORN_CMD_ARGS or on gunicorn's own command line (the workers are forks of it,
    so `sys.argv` is gunicorn's). Anything else counts as one process.
    """
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))
    if sys.argv and Path(sys.argv[0]).name.startswith("gunicorn"):
        args += sys.argv[1:]
    workers = _int_env("WEB_CONCURRENCY", 1)
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-w") and arg[2:].isdigit():
            value = arg[2:]
        if value is not None and value.isdigit():
            workers = int(value)
    return workers


def _time_zone() -> str:
    """The department's IANA time zone: CRM_TIME_ZONE (or TIME_ZONE), else the zone that
    `crm seed-demo` kept for its city in instance/time_zone, else UTC. crm.timezones checks it."""
    named = (os.environ.get("CRM_TIME_ZONE") or os.environ.get("TIME_ZONE") or "").strip()
    if named:
        return named
    kept = INSTANCE_DIR / "time_zone"
    return (kept.read_text().strip() if kept.is_file() else "") or "UTC"


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
    # The niceness (0-19) a background job's thread takes: on the app's own machine a refresh
    # of several seconds of CPU then yields to requests (crm.network.jobs).
    ANALYTICS_WORKER_NICE = _int_env("CRM_ANALYTICS_WORKER_NICE", 10)
    INSTANCE_DIR = INSTANCE_DIR
    # How many analytics pages and API answers run at once on this machine (crm.web.read_slots);
    # unset: one core fewer than the machine has (at least 1); 0 turns the limit off.
    ANALYTICS_READ_SLOTS = _int_env("CRM_ANALYTICS_READ_SLOTS", None)
    # Niceness added to a thread while it holds a read slot, so POSTs run first (0: off).
    ANALYTICS_READ_NICE = _int_env("CRM_ANALYTICS_READ_NICE", 10)
    # Coverage and hard-to-engage answers left for the other processes of this machine in
    # instance/live-answers/ (crm.network.live_share); "0" keeps them per process.
    LIVE_SHARED_ANSWERS = os.environ.get("CRM_LIVE_SHARED_ANSWERS", "1") != "0"
    # SQLite: copy the write-ahead log back into the database file every so many seconds in a
    # background thread of each process, instead of inside a commit (crm.ops.checkpoint);
    # 0 leaves it to SQLite (every 1,000 pages, in the committing request).
    SQLITE_CHECKPOINT_SECONDS = float(os.environ.get("CRM_SQLITE_CHECKPOINT_SECONDS", "1"))
    MIGRATIONS_DIR = str(BASE_DIR / "migrations")

    # Behind a TLS-terminating proxy: how many proxies in front of the app set
    # X-Forwarded-For/-Proto (ProxyFix trusts that many hops). 0 = clients connect directly, and
    # forwarded headers are ignored (anyone could send them).
    TRUSTED_PROXIES = _int_env("TRUSTED_PROXIES", 0)
    WORKERS = _worker_count()

    # Sessions: cookie flags; Secure is switched on outside development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token instead
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # CSV uploads; anything bigger is refused with 413

    # Offline mode (crm.offline): the service worker, the on-device send queue and the cached
    # field pages. A department that forbids storage on devices sets it off.
    OFFLINE_MODE_ENABLED = os.environ.get("CRM_OFFLINE_MODE", "1") != "0"

    # Sign-in policy. The messages that tell a user their session ended are built from these
    # two values (crm.users.sessions), so they stay right when the values change.
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    ACCOUNT_INACTIVE_DAYS = 90
    TOTP_REQUIRED_ROLES = ("admin",)
    # Failures are counted per account AND source address (CJIS: lock after 5 consecutive
    # failures), so a stranger can lock an officer out of their own address only. From the
    # second failure each further attempt from that source must wait LOGIN_DELAY, doubling.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    LOGIN_DELAY = timedelta(seconds=1)
    # Per worker unless shared: production with several workers requires REDIS_URL (check()).
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    LOGIN_RATE_LIMIT = "30 per minute"
    # argon2id cost (argon2-cffi's RFC 9106 low-memory defaults: 3 passes over 64 MiB, 4 lanes).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_COST = 64 * 1024  # KiB
    PASSWORD_HASH_PARALLELISM = 4

    # Domain defaults
    HARD_TO_ENGAGE_DAYS = 90
    # Times are stored in UTC and entered, shown and counted by day in this zone (crm.timezones).
    TIME_ZONE = _time_zone()
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

    @classmethod
    def check(cls) -> None:
        super().check()
        if cls.WORKERS > 1 and not cls.REDIS_URL:
            raise RuntimeError(
                f"REDIS_URL must be set when serving with {cls.WORKERS} workers: each worker would "
                "otherwise count login attempts on its own, multiplying the login rate limit. "
                "Set REDIS_URL=redis://host:6379/0, or run a single worker.")
        if cls.TRUSTED_PROXIES < 0:
            raise RuntimeError("TRUSTED_PROXIES must be 0 (no proxy) or the number of proxies")


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
    ANALYTICS_READ_SLOTS = 0  # tests/test_read_slots.py turns it on
    LIVE_SHARED_ANSWERS = False  # tests/test_live_cache.py turns it on
    SQLITE_CHECKPOINT_SECONDS = 0.0  # tests/test_sqlite_checkpoint.py turns it on
    TRUSTED_PROXIES = 0
    WORKERS = 1
    TIME_ZONE = "UTC"  # tests that need a department's zone set it themselves
    # Still argon2id, at the smallest cost: the suite hashes hundreds of passwords.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_COST = 64
    PASSWORD_HASH_PARALLELISM = 1
