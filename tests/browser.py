"""What every browser test needs: the app served from a file database, Debian's Chromium
through Playwright (skipped with a message when either is missing), and a sign-in."""

from __future__ import annotations

import logging
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

SKIP = "install Debian's chromium (apt-get install chromium) and pip's playwright to run browser tests"
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def file_app(path: Path):
    """The app on a SQLite file (a served app needs one database for every thread)."""
    from crm import create_app
    from crm.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
    return app


@contextmanager
def serve(app):
    """Serve `app` with werkzeug in a background thread; yields its base URL."""
    from werkzeug.serving import make_server

    from crm.extensions import db

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright; skips the test when there is none."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip(SKIP)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(SKIP)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the login form and wait for the home page."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def wait_until(predicate, seconds: float = 20, page=None):
    """Poll `predicate` (a server-side fact, say) until it is true; its last value otherwise.

    With `page`, waits through Playwright: the sync API runs route handlers only while the test
    is inside a Playwright call, so a plain sleep would hold routed requests back."""
    import time

    deadline = time.monotonic() + seconds
    while not (value := predicate()) and time.monotonic() < deadline:
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)
    return value
