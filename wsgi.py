"""WSGI entry point: `gunicorn wsgi:app`."""

import gc

from config import Config
from crm import create_app

app = create_app(Config.from_env())
# The ~300,000 objects of the imported libraries live as long as the process: kept out of the
# garbage collector's full passes, which otherwise stop a request for ~0.15-0.2 s each.
gc.freeze()
