"""Operations: backups, restores, the privacy ledger and logs."""

from __future__ import annotations

from pathlib import Path

import flask


def instance_file(config_key: str, default_name: str) -> Path | None:
    """A file the app keeps beside the database (audit anchor, privacy ledger).

    The config key names it (empty: off); under TESTING it is off unless a test sets the key.
    """
    if not flask.has_app_context():
        return None
    cfg = flask.current_app.config
    if config_key in cfg:
        return Path(cfg[config_key]) if cfg[config_key] else None
    if cfg.get("TESTING"):
        return None
    return Path(cfg.get("INSTANCE_DIR") or flask.current_app.instance_path) / default_name
