"""The app as the live phase serves it on SQLite: production settings on one machine, no Redis.

`ProductionConfig` wants `REDIS_URL` with several workers for one reason: the login rate
limit would otherwise be counted per worker. The bench signs in five clients once, so that
does not matter here, and `make bench` on SQLite must need nothing but Python. Everything
else is production: no debug, secure cookies (the bench clients act as if behind a TLS
proxy, `TRUSTED_PROXIES=1`), WAL (every SQLite connection, `crm.db.configure_sqlite`) and the
network analytics on the embedded queue (`CRM_ANALYTICS_QUEUE=sqlite`), consumed by a
separate `flask crm worker` process.

    gunicorn --workers 4 bench.wsgi:app
"""

import gc

from config import ProductionConfig
from crm import create_app


class OneMachineConfig(ProductionConfig):
    """Production settings whose login rate limit is counted per worker (no Redis)."""

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set outside development")


app = create_app(OneMachineConfig)
gc.freeze()  # as wsgi.py: the libraries' objects stay out of the full collections
