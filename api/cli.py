"""The `najda` command line: run the server, or seed the demo area into a store."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from najda.api.audit_trust import witnessed
from najda.api.settings import DEMO_AREAS, Settings, SettingsError
from najda.domain.access.user import Role
from najda.domain.application import Dispatch
from najda.domain.care.consult import Specialty
from najda.geo.distance import great_circle_m

DESCRIPTION = """\
Najda: event-sourced emergency dispatch coordination.

With no configuration, events live in a SQLite file in the data directory and the read
models in memory; an empty store is seeded with a demo city and its users, whose tokens are
printed that once. Give a PostgreSQL URL (--database-url or NAJDA_DATABASE_URL) to keep
events and read models in PostgreSQL/PostGIS (seeded with the demo only with --demo).
"""

ENVIRONMENT = """\
environment variables (the options win over them):
  NAJDA_DATA_DIR         data directory (default ./data)
  NAJDA_DATABASE_URL     postgresql://user:password@host:port/database
  NAJDA_HOST, NAJDA_PORT address to listen on (default 127.0.0.1:8000)
  NAJDA_RESPONSE_PLAN    JSON response plan file
  NAJDA_SEED_DEMO        1 to seed the demo into an empty store (the embedded default), 0 never
  NAJDA_POLL_INTERVAL_S  longest delay before the read models notice a missed wake-up
  NAJDA_STALE_AFTER_S    flag a unit stale after this many silent seconds (default 180)
  NAJDA_AUTO_DISPATCH    priorities dispatched at once on report, e.g. "Ω,A" (default none)
  NAJDA_CLIENT_QUEUE     messages a websocket client may fall behind before it is dropped
  NAJDA_RESUME_BUFFER    changes kept in memory for resuming clients (default 20000)
  NAJDA_RESUME_BUFFER_BYTES  and at most this many bytes of them (default 33554432, 32 MiB)
  NAJDA_WS_SEND_TIMEOUT_S    drop a websocket client that takes no message for this long (30)
  NAJDA_TOKEN_TTL_DAYS   days a new token works (default 90; 0: until replaced or revoked)
  NAJDA_AUTH_FAILURES    failed sign-ins a client may make per minute before 429 (default 10)
  NAJDA_ROAD_NETWORK     a JEMSS scenario directory whose roads rank units by road ETA
  NAJDA_DEMO_AREA        liechtenstein (default, real OpenStreetMap data) or sahil (invented)
  NAJDA_ADMIN_TOKEN      the token of administrator `admin` (a strong secret of 32+ characters;
                         change it and restart to rotate it)
  NAJDA_TLS_CERT, NAJDA_TLS_KEY  serve HTTPS and WSS with this certificate and key (PEM)
  NAJDA_READY_MAX_LAG    positions a read model or the sealer may trail while /health/ready
                         answers 200 (default 1000)
  NAJDA_AUDIT_KEY        audit signing key file (default <data dir>/audit/najda-audit.key)
  NAJDA_AUDIT_PUBLIC_KEY its public key, for `najda audit verify` (default: the key + .pub)
  NAJDA_CHECKPOINT_DIR   signed checkpoints of the hash chain (default <data dir>/checkpoints)
  NAJDA_CHECKPOINT_INTERVAL_S  seconds between checkpoints while events come in (default 60)
  NAJDA_MAX_UNSEALED_AGE_S     verify fails when an event stays unsealed longer (default 300)
"""


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory of the embedded SQLite event store (default ./data or $NAJDA_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL/PostGIS URL (postgresql://...); default: the embedded SQLite store",
    )


def _demo_area_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo-area",
        choices=list(DEMO_AREAS),
        help="demo area of an empty store: the real liechtenstein (default, or"
        " $NAJDA_DEMO_AREA) or the invented town sahil; an area imported with"
        " `najda area import` always wins",
    )


def _expiry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expires-in-days",
        type=float,
        metavar="DAYS",
        help="days the token works (default 90 or $NAJDA_TOKEN_TTL_DAYS; 0: until replaced)",
    )


@dataclass(frozen=True)
class Command:
    """A sub-command a layer above the API offers (the simulator's `simulate`): how it adds
    its parser and how it runs. The package root's `najda/cli.py` passes them in."""

    add_parser: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]
    run: Callable[[argparse.Namespace], int]


def build_parser(extra: Mapping[str, Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with its sub-commands (and `extra`'s) and help texts."""
    parser = argparse.ArgumentParser(
        prog="najda",
        description=DESCRIPTION,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the HTTP API (docs at /docs)",
        description="Run the HTTP API. The URL is printed once the server is listening.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000; 0 = any free)")
    _store_options(serve)
    serve.add_argument(
        "--response-plan",
        type=Path,
        metavar="FILE",
        help="JSON file overriding the default response plan (unit kinds per priority)",
    )
    serve.add_argument(
        "--road-network",
        type=Path,
        metavar="DIR",
        help="a JEMSS scenario directory: rank units by road ETA over its roads",
    )
    serve.add_argument(
        "--policy",
        metavar="POLICY",
        help="dispatch policy of the recommendations: closest-straight, closest-road, coverage "
        "or a coverage variant (default: closest-road with roads, else closest-straight)",
    )
    _demo_area_option(serve)
    demo = serve.add_mutually_exclusive_group()
    demo.add_argument(
        "--no-demo",
        action="store_true",
        help="do not seed the demo city into an empty store",
    )
    demo.add_argument(
        "--demo",
        action="store_true",
        help="seed the demo city into an empty store (default on the embedded store only)",
    )
    serve.add_argument(
        "--tls-cert", type=Path, metavar="PEM", help="serve HTTPS and WSS with this certificate"
    )
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    serve.add_argument(
        "--poll-interval",
        type=float,
        metavar="SECONDS",
        help="longest delay before read models notice events whose wake-up was missed (1.0)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default info)",
    )
    serve.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="log lines as text (default) or one JSON object a line (time, level, logger,"
        " message, request_id, user)",
    )

    seed = commands.add_parser(
        "seed-demo",
        help="seed the demo area into an empty store, then exit",
        description="Register the demo area's stations, hospitals and units into an empty"
        " store: the same area `serve` seeds (an imported area, else the demo area).",
    )
    _store_options(seed)
    _demo_area_option(seed)

    users = commands.add_parser(
        "users",
        help="add, list or revoke users (prints tokens; only their hashes are stored)",
        description="Manage who may use Najda. Roles: " + ", ".join(r.value for r in Role),
    )
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user and print its token")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    _expiry_option(add)
    add.add_argument("--unit", metavar="CALLSIGN", help="the crew's unit (crew only)")
    add.add_argument(
        "--specialty",
        action="append",
        default=[],
        metavar="SPECIALTY",
        help="a specialist's specialty, once per specialty (specialist only): "
        + ", ".join(s.value for s in Specialty),
    )
    _store_options(add)
    listing = actions.add_parser("list", help="list active users")
    _store_options(listing)
    for action in ("rotate", "token"):
        rotate = actions.add_parser(
            action,
            help="give a user a new token and print it (the old one stops at once, on every"
            " process and open socket)"
            if action == "rotate"
            else "the same as rotate",
        )
        rotate.add_argument("name")
        _expiry_option(rotate)
        _store_options(rotate)
    revoke = actions.add_parser("revoke", help="revoke a user for good")
    revoke.add_argument("name")
    _store_options(revoke)
    clinical = actions.add_parser(
        "clinical", help="grant an auditor clinical access (patient data unredacted), or not"
    )
    clinical.add_argument("name")
    clinical.add_argument("grant", choices=["on", "off"])
    _store_options(clinical)

    for command in (extra or {}).values():
        command.add_parser(commands)

    from najda.api.cli_audit import add_commands  # replay, audit, report, eido, rebuild

    add_commands(commands)

    from najda.api.cli_backup import add_commands as add_backup

    add_backup(commands, _store_options)
    from najda.api.cli_area import add_commands as add_area  # area import

    add_area(commands)
    return parser


def seed_demo_command(args: argparse.Namespace) -> int:
    """Seed the demo area when the store is empty: the one `serve` would seed (the data
    directory's imported area, else the demo area: Liechtenstein unless asked otherwise)."""
    from najda.api.demo import seed_demo
    from najda.api.demo_area import seed_area_demo
    from najda.api.services import open_operating_area
    from najda.domain.application import Dispatch
    from najda.projections.base import NotificationSource
    from najda.projections.store.environment import postgres_env, sqlite_env

    settings = Settings.from_env(
        data_dir=args.data_dir,
        database_url=args.database_url,
        demo_area=args.demo_area,
        seed_demo=True,  # asked for by name, on either store
    )
    if settings.database_url is not None:
        env = postgres_env(settings.database_url)
    else:
        env = sqlite_env(settings.sqlite_path)
    dispatch = Dispatch(env, distance=great_circle_m)
    try:
        witnessed(dispatch, settings)  # its events are sealed like the server's
        if NotificationSource(dispatch).head() != 0:
            print(f"the store is not empty; nothing seeded ({settings.store_description()})")
            return 1
        area = open_operating_area(settings)
        summary = seed_demo(dispatch) if area is None else seed_area_demo(dispatch, area)
    finally:
        dispatch.close()
    where = area.name if area is not None else "the invented town sahil"
    print(
        f"seeded {where}: {summary.stations} stations, {summary.hospitals} hospitals, "
        f"{summary.units} units and {summary.patients} monitored patients into "
        f"{settings.store_description()}"
    )
    return 0


def _open_store(args: argparse.Namespace) -> tuple[Dispatch, Settings]:
    from najda.projections.store.environment import postgres_env, secure_umask, sqlite_env

    secure_umask()
    settings = Settings.from_env(data_dir=args.data_dir, database_url=args.database_url)
    if settings.database_url is not None:
        env = postgres_env(settings.database_url)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = sqlite_env(settings.sqlite_path)
    dispatch = Dispatch(env, distance=great_circle_m)
    witnessed(dispatch, settings)  # its events are sealed like the server's
    return dispatch, settings


def users_command(args: argparse.Namespace) -> int:
    """najda users add|list|token|revoke."""
    from najda.domain.dispatch.unit import unit_id_for
    from najda.domain.errors import DispatchError

    dispatch, settings = _open_store(args)
    try:
        actor = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name known to the system
        actor = "cli"
    days = getattr(args, "expires_in_days", None)
    if days is not None:
        if days < 0:
            print("najda: --expires-in-days must be 0 or more", file=sys.stderr)
            return 2
        settings = settings.with_overrides(token_ttl_days=days)
    expires_at = settings.token_expiry(dispatch.clock())
    try:
        if args.action == "add":
            unit_id = None if args.unit is None else unit_id_for(args.unit)
            token = dispatch.add_user(
                args.name,
                args.role,
                actor,
                unit_id=unit_id,
                specialties=args.specialty,
                expires_at=expires_at,
            )
            print(token)
        elif args.action in ("rotate", "token"):
            print(dispatch.issue_token(args.name, actor, expires_at=expires_at))
        elif args.action == "revoke":
            dispatch.revoke_user(args.name, actor)
            print(f"revoked {args.name}")
        elif args.action == "clinical":
            dispatch.set_clinical_access(args.name, args.grant == "on", actor)
            print(f"clinical access for {args.name}: {args.grant}")
        else:
            for name, role, unit in _list_users(dispatch):
                print(f"{name}\t{role}\t{unit or ''}")
    except DispatchError as exc:
        print(f"najda: {exc}", file=sys.stderr)
        return 1
    finally:
        dispatch.close()
    return 0


def _list_users(dispatch: Dispatch) -> list[tuple[str, str, str | None]]:
    """Active users from the log (name, role, the crew's unit call sign or the
    specialist's specialties)."""
    from najda.projections.base import NotificationSource

    users: dict[str, tuple[str, str, str | None]] = {}
    source = NotificationSource(dispatch)
    position = 0
    while batch := source.read(position, 1000):
        for item in batch:
            if item.topic == "najda:User.Registered":
                e = item.event
                unit = None
                if e.unit_id is not None:
                    unit = dispatch.get_unit(e.unit_id).call_sign
                users[str(item.originator_id)] = (e.name, str(e.role), unit)
            elif item.topic == "najda:User.SpecialtiesSet":
                name, role, _ = users[str(item.originator_id)]
                users[str(item.originator_id)] = (name, role, ",".join(item.event.specialties))
            elif item.topic == "najda:User.ClinicalAccessSet":
                name, role, unit = users[str(item.originator_id)]
                role = "auditor (clinical)" if item.event.granted else "auditor"
                users[str(item.originator_id)] = (name, role, unit)
            elif item.topic == "najda:User.Revoked":
                users.pop(str(item.originator_id), None)
        position = batch[-1].position
    return sorted(users.values())


def main(argv: Sequence[str] | None = None, extra: Mapping[str, Command] | None = None) -> int:
    """The server's commands, and `extra`'s (the `najda` console script is najda/cli.py)."""
    parser = build_parser(extra)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            from najda.api.cli_serve import serve

            return serve(args)
        if args.command == "users":
            return users_command(args)
        if extra and args.command in extra:
            return extra[args.command].run(args)
        if args.command == "seed-demo":
            return seed_demo_command(args)
        if args.command == "area":
            from najda.api.cli_area import run as area_command

            return area_command(args)
        from najda.api.cli_audit import run

        return run(args)
    except SettingsError as exc:
        print(f"najda: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
