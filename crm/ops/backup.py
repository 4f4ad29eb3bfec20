"""Backups: SQLite's online backup API (consistent while the app runs) or pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa


def default_backup_path(instance_dir: Path, url: sa.URL) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ext = "sqlite3" if url.get_backend_name() == "sqlite" else "pgdump"
    return Path(instance_dir) / "backups" / f"alliance-{stamp}.{ext}"


def _pg_env(url: sa.URL) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database or ""]
    return args, env


def backup(url: sa.URL, target: Path) -> Path:
    """Write a complete copy of the database to `target` and return its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        src = sqlite3.connect(url.database)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    elif backend == "postgresql":
        args, env = _pg_env(url)
        argv = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args]
        subprocess.run(argv, check=True, env=env)  # noqa: S603  # nosec B603
    else:
        raise ValueError(f"no backup method for {backend}")
    target.chmod(0o600)  # it holds personal data
    return target


def restore(url: sa.URL, source: Path) -> None:
    """Replace the database's contents with the backup at `source`."""
    if not source.exists():
        raise FileNotFoundError(source)
    backend = url.get_backend_name()
    if backend == "sqlite":
        src = sqlite3.connect(source)
        dst = sqlite3.connect(url.database)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    elif backend == "postgresql":
        args, env = _pg_env(url)
        argv = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                *args, str(source)]
        subprocess.run(argv, check=True, env=env)  # noqa: S603  # nosec B603
    else:
        raise ValueError(f"no restore method for {backend}")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path
