"""WSGI entry point: `gunicorn wsgi:app`."""

from config import Config
from crm import create_app

app = create_app(Config.from_env())
