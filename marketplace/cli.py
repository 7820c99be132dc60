"""The `marketplace` command: run, worker, db upgrade, demo load, users create, and more.

Conventions for every subcommand: `--json` writes exactly one JSON document to stdout and everything
else (logs, migrations, progress) to stderr; the exit status is non-zero on failure; `-o` and
`--output` are the same option.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from marketplace.settings import Settings, SettingsError

log = logging.getLogger("marketplace.cli")

Command = Callable[[argparse.Namespace, Settings], int]


class CommandError(Exception):
    """A failure to report as one clear line (and exit status 1)."""


def emit_json(document: Any) -> None:
    """Write the one JSON document of a `--json` run to stdout."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marketplace", description="HHS Data Marketplace")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the web app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1, help="web worker processes")
    run.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    run.set_defaults(handler=run_server)

    worker = sub.add_parser("worker", help="run background jobs")
    worker.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle")
    worker.add_argument("--json", action="store_true")
    worker.set_defaults(handler=run_worker)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    upgrade = db.add_parser("upgrade", help="apply migrations (and seed reference data)")
    upgrade.add_argument("--json", action="store_true")
    upgrade.set_defaults(handler=db_upgrade)
    current = db.add_parser("current", help="show whether migrations are pending")
    current.add_argument("--json", action="store_true")
    current.set_defaults(handler=db_current)

    demo = sub.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    load = demo.add_parser("load", help="add the demo data (idempotent)")
    load.add_argument("--if-empty", action="store_true", help="only when the database has no users")
    load.add_argument("--json", action="store_true")
    load.set_defaults(handler=demo_load)

    users = sub.add_parser("users", help="accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create an account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--division", required=True, help="division code, e.g. CDC")
    create.add_argument(
        "--role",
        action="append",
        default=[],
        dest="roles",
        help="viewer, steward, officer, leadership or admin; repeat for several",
    )
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=users_create)

    for extend in EXTENSIONS:
        extend(sub)
    return parser


# Other packages (catalog, procurement) append a function that adds their subcommands to the
# subparsers and sets `handler` on each; marketplace.cli_extensions imports them.
EXTENSIONS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    from marketplace.logs import configure_logging

    _load_extensions()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"marketplace: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return args.handler(args, settings)
    except CommandError as exc:
        if getattr(args, "json", False):
            emit_json({"error": str(exc)})
        print(f"marketplace: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _load_extensions() -> None:
    import marketplace.cli_extensions  # noqa: F401  (registers the other packages' commands)


# ------------------------------------------------------------------ commands


def run_server(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    log.info("serving", extra={"event": {"url": f"http://{args.host}:{args.port}"}})
    uvicorn.run(
        "marketplace.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        proxy_headers=True,
        log_config=None,
        access_log=False,
    )
    return 0


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace import jobs
    from marketplace.db import Database
    from marketplace.types import utcnow

    database = Database(settings)
    if args.once:
        count = jobs.run_pending(database, utcnow, worker_id=f"cli:{os.getpid()}")
        if args.json:
            emit_json({"ran": count})
        return 0
    stopping = {"flag": False}

    def stop(*_: Any) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    jobs.worker_loop(database, poll_seconds=args.poll, stop=lambda: stopping["flag"])
    return 0


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:
        raise CommandError(f"migration failed: {exc}") from exc
    if args.json:
        emit_json({"status": "ok", "database": _redacted(settings.database_url)})
    else:
        print("Database is up to date.", file=sys.stderr)
    return 0


def db_current(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.db import Database
    from marketplace.migrate import pending_revisions

    database = Database(settings)
    pending = pending_revisions(database.engine, settings.database_url)
    if args.json:
        emit_json({"pending": pending})
    else:
        print("Migrations pending." if pending else "Up to date.", file=sys.stderr)
    return 0


def demo_load(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.db import Database
    from marketplace.demo import load_demo

    if settings.is_production:
        raise CommandError(
            "refusing to load demo data when MARKETPLACE_ENV=production: demo accounts have known passwords"
        )
    database = Database(settings)
    summary = load_demo(database, only_if_empty=args.if_empty)
    if args.json:
        emit_json(summary)
    else:
        print(f"Demo data: {json.dumps(summary)}", file=sys.stderr)
    return 0


def users_create(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace import accounts
    from marketplace.db import Database

    password = os.environ.get("MARKETPLACE_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError("set MARKETPLACE_PASSWORD or run in a terminal to be prompted")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise CommandError("the passwords do not match")
    database = Database(settings)
    with database.session() as db:
        try:
            user = accounts.create_user(
                db,
                "cli: marketplace users create",
                accounts.UserInput(
                    email=args.email,
                    name=args.name,
                    division_code=args.division,
                    roles=tuple(args.roles),
                    password=password,
                ),
            )
        except accounts.ValidationFailed as exc:
            db.rollback()
            raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
        principal = accounts.principal_for(db, user)
    result = {
        "id": user.id,
        "email": user.email,
        "division": principal.division_code,
        "roles": sorted(r.value for r in principal.roles),
    }
    if args.json:
        emit_json(result)
    else:
        print(
            f"Created {user.email} ({principal.division_code}; {', '.join(result['roles'])}).",
            file=sys.stderr,
        )
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
