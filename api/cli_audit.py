"""Audit sub-commands of `najda`: replay, audit verify/seal, report, eido, rebuild."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from tqdm import tqdm

from najda.api.audit_trust import trust, witnessed
from najda.api.settings import Settings
from najda.domain.application import Dispatch
from najda.domain.errors import DispatchError
from najda.geo.distance import great_circle_m


def _store_options(parser: argparse.ArgumentParser) -> None:
    from najda.api.cli import _store_options as add

    add(parser)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=args.data_dir,
        database_url=args.database_url,
        audit_key=getattr(args, "audit_key", None),
        public_key=getattr(args, "public_key", None),
        checkpoint_dir=getattr(args, "checkpoints", None),
        max_unsealed_age_s=getattr(args, "max_unsealed_age", None),
    )


def _audit_options(parser: argparse.ArgumentParser, *, verifying: bool) -> None:
    parser.add_argument(
        "--checkpoints",
        type=Path,
        metavar="DIR",
        help="signed checkpoints (default <data dir>/checkpoints or $NAJDA_CHECKPOINT_DIR)",
    )
    if verifying:
        parser.add_argument(
            "--public-key",
            type=Path,
            metavar="FILE",
            help="the audit public key (default: the audit key's path + .pub)",
        )
        parser.add_argument(
            "--max-unsealed-age",
            type=float,
            metavar="SECONDS",
            help="fail when an event stays unsealed longer (default 300)",
        )
    parser.add_argument(
        "--audit-key",
        type=Path,
        metavar="FILE",
        help="the audit signing key (default <data dir>/audit/najda-audit.key)",
    )


@contextmanager
def _dispatch(args: argparse.Namespace, *, writes: bool = False) -> Iterator[Dispatch]:
    """The application on the store the options name (closed afterwards); one that
    `writes` witnesses its saves with the audit key."""
    from najda.projections.store.environment import postgres_env, sqlite_env

    settings = _settings(args)
    if settings.database_url is not None:
        env = postgres_env(settings.database_url, pool_size=2)
    else:
        if not settings.sqlite_path.exists():
            raise SystemExit(f"najda: no event store at {settings.sqlite_path}")
        env = sqlite_env(settings.sqlite_path)
    dispatch = Dispatch(env, distance=great_circle_m)
    try:
        if writes:
            witnessed(dispatch, settings)
        yield dispatch
    finally:
        dispatch.close()


@contextmanager
def _bar(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (shown on a terminal only) and its update function."""
    with tqdm(total=total, unit=" events", desc=what, file=sys.stderr, disable=None) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update


def _incident_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an incident id: {text!r}") from None


# --- commands -----------------------------------------------------------------------


def replay(args: argparse.Namespace) -> int:
    """Print the incident's timeline, one event a line."""
    from najda.projections.audit.as_of import happened_by, parse_as_of
    from najda.projections.audit.timeline import incident_timeline
    from najda.projections.store.event_rows import EventLog

    with _dispatch(args) as dispatch:
        entries = incident_timeline(EventLog(dispatch), args.incident_id)
    if args.as_of is not None:
        as_of = parse_as_of(args.as_of)
        entries = [e for e in entries if happened_by(e, as_of)]
    if args.json:
        rows = [
            {
                "position": e.position,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "subject": e.subject,
                "event": e.kind,
                "text": e.text,
            }
            for e in entries
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"incident {args.incident_id} ({len(entries)} events, times UTC)")
    for e in entries:
        print(f"{e.position:>10}  {e.line()}")
    return 0


def audit_verify(args: argparse.Namespace) -> int:
    """Walk the store against its hash chain, the signed checkpoints and the witnesses;
    exit 1 naming the first problem found."""
    from najda.projections.audit.verify import verify
    from najda.projections.store.event_rows import EventLog

    settings = _settings(args)
    held_to = trust(settings)
    with _dispatch(args) as dispatch:
        log = EventLog(dispatch)
        with _bar(log.head(), "verifying") as progress:
            result = verify(log, held_to, progress=progress)
    print(
        f"checked {result.rows} events: {result.sealed} sealed, {result.unsealed} not sealed"
        f" yet; chain head {result.chain_head}"
    )
    newest = result.checkpoint
    if newest is not None:
        print(
            f"newest signed checkpoint: position {newest.position}, signed"
            f" {newest.signed_at.isoformat()} ({newest.name()})"
        )
    if result.ok:
        print("OK: no event was altered, removed, inserted, reordered, truncated or forged")
        return 0
    first = result.first
    if first is not None:
        print(f"FIRST PROBLEM: {first.text()}")
    for finding in result.findings[1:]:
        print(f"  also {finding.text()}")
    return 1


def audit_seal(args: argparse.Namespace) -> int:
    """Extend the hash chain over every event the application recorded since the last seal,
    then sign a checkpoint of the chain head."""
    from datetime import UTC, datetime

    from najda.projections.audit.seal import Sealer
    from najda.projections.audit.witness import adopt_unwitnessed
    from najda.projections.store.event_rows import EventLog

    settings = _settings(args)
    with _dispatch(args) as dispatch:
        key = witnessed(dispatch, settings)
        log = EventLog(dispatch)
        sealer = Sealer(log, key.public)
        sealer.ensure_table()
        if args.adopt_unwitnessed:
            adopted = adopt_unwitnessed(log, key, sealer.sealed_position())  # operator's call
            print(f"adopted {adopted} events written without the audit key")
        with _bar(max(0, log.head() - sealer.sealed_position()), "sealing") as progress:
            sealed = sealer.seal_all(progress)
        made = sealer.checkpoint(
            key, settings.checkpoint_path, settings.store_description(), datetime.now(UTC)
        )
        left = log.head() - sealer.sealed_position()
    print(f"sealed {sealed} events")
    if made is not None:
        print(f"signed checkpoint {made}")
    if left > 0:
        print(
            "some events are not sealed: the application did not write them (see `najda audit"
            " verify`); --adopt-unwitnessed vouches for them, after you have checked them"
        )
    return 0


def audit_reads(args: argparse.Namespace) -> int:
    """Print who read a patient's data (and the incidents raised for them), oldest first."""
    from najda.domain.care.monitoring_use_cases import patient_ref
    from najda.projections.audit.patient_reads import ReadLog, patient_reads
    from najda.projections.store.event_rows import EventLog

    patient_id = patient_ref(args.patient)
    with _dispatch(args) as dispatch:
        read_log = ReadLog(EventLog(dispatch))
        read_log.ensure_table()
        reads = patient_reads(dispatch, read_log, patient_id, args.limit)
    if args.json:
        rows = [
            {
                "at": r.at.isoformat(),
                "user": r.user,
                "role": r.role,
                "action": r.action,
                "incident_id": None if r.incident_id is None else str(r.incident_id),
            }
            for r in reads
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"patient {patient_id}: {len(reads)} reads (times UTC)")
    for r in reads:
        what = r.action + (f" (incident {r.incident_id})" if r.incident_id else "")
        print(f"{r.at.isoformat()}  {r.user} ({r.role})  {what}")
    return 0


def report(args: argparse.Namespace) -> int:
    """Write the response-time report as JSON, CSV or PNG."""
    from najda.api.report_plot import response_time_png
    from najda.projections.audit.as_of import parse_as_of
    from najda.projections.reports.response_times import (
        DEFAULT_TARGETS,
        Target,
        build_report,
        collect,
        report_csv,
    )
    from najda.projections.store.event_rows import EventLog

    start = parse_as_of(args.start) if args.start else None
    end = parse_as_of(args.end) if args.end else None
    if isinstance(start, int) or isinstance(end, int):
        raise SystemExit("najda: --from and --to take ISO 8601 times")
    targets = [Target.parse(t) for t in args.target] if args.target else list(DEFAULT_TARGETS)
    with _dispatch(args) as dispatch:
        log = EventLog(dispatch)
        with _bar(log.head(), "reading") as progress:
            responses, zones = collect(log, start, end, progress)
    data = build_report(responses, zones, targets, start, end)
    output: bytes
    if args.format == "png":
        output = response_time_png(data)
    elif args.format == "csv":
        output = report_csv(data).encode()
    else:
        if not args.with_responses:
            data = {k: v for k, v in data.items() if k != "responses"}
        output = (json.dumps(data, indent=2) + "\n").encode()
    if args.output is not None:
        args.output.write_bytes(output)
        print(f"wrote {args.output} ({data['incidents']} incidents)", file=sys.stderr)
    elif args.format == "png":
        raise SystemExit("najda: give --output FILE for a PNG")
    else:
        sys.stdout.write(output.decode())
    return 0


def eido_export(args: argparse.Namespace) -> int:
    """Print the incident as an EIDO JSON document."""
    from najda.api.eido import incident_eido
    from najda.projections.audit.as_of import incident_as_of
    from najda.projections.store.event_rows import EventLog

    with _dispatch(args) as dispatch:
        past = incident_as_of(dispatch, args.incident_id, EventLog(dispatch).head())
    agency = _settings(args).agency
    print(json.dumps(incident_eido(past.incident, past.unit_statuses, agency), indent=2))
    return 0


def eido_import(args: argparse.Namespace) -> int:
    """Open an incident from an EIDO JSON file."""
    from najda.api.eido import import_eido, read_eido
    from najda.domain.values import Position, Priority

    try:
        document: Any = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"najda: cannot read {args.file}: {exc}") from None
    location = None
    if args.lat is not None or args.lon is not None:
        if args.lat is None or args.lon is None:
            raise SystemExit("najda: give both --lat and --lon")
        location = Position(args.lat, args.lon)
    priority = Priority.parse(args.priority) if args.priority else None
    call = read_eido(document)
    with _dispatch(args, writes=True) as dispatch:  # its events are sealed
        incident_id, created = import_eido(
            dispatch, call, args.actor, location=location, priority=priority
        )
    print(incident_id if created else f"{incident_id} (already imported: {call.eido_id})")
    return 0


def rebuild_command(args: argparse.Namespace) -> int:
    """Rebuild the PostGIS read models from the whole log."""
    settings = _settings(args)
    if settings.database_url is None:
        print("the embedded read models live in memory and are rebuilt at every start")
        return 0
    return asyncio.run(_rebuild(settings.database_url, args.batch_size))


async def _rebuild(url: str, batch_size: int) -> int:
    from najda.projections.rebuild import rebuild
    from najda.projections.store.environment import asyncpg_dsn, postgres_env
    from najda.projections.store.fast_log_reader import FastLogReader
    from najda.projections.store.postgis_pool import PostgisProjections

    dispatch = Dispatch(postgres_env(url, pool_size=2), distance=great_circle_m)
    try:
        async with await PostgisProjections.connect(asyncpg_dsn(url)) as read_models:
            reader = FastLogReader(dispatch, read_models.pool)
            head = await reader.head()
            ended = await reader.ended_incidents(head)
            reader.skip = ended  # their events are not even decoded
            with _bar(head, "rebuilding") as progress:
                total = await rebuild(
                    reader.read,
                    [read_models.locator, read_models.board],
                    batch_size=batch_size,
                    progress=progress,
                    ended=ended,
                )
    finally:
        dispatch.close()
    print(f"rebuilt the unit locator and the incident board from {total} events")
    return 0


# --- the parser ---------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Register the audit sub-commands on `najda`'s sub-parsers."""
    p = commands.add_parser("replay", help="print an incident's timeline, as it happened")
    p.add_argument("incident_id", type=_incident_id, metavar="INCIDENT_ID")
    p.add_argument("--as-of", help="stop at this log position or ISO 8601 time")
    p.add_argument("--json", action="store_true", help="JSON instead of lines")
    _store_options(p)
    p.set_defaults(run=replay)

    audit = commands.add_parser("audit", help="tamper evidence: seal and verify the event log")
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser(
        "verify", help="check every event against the hash chain and the signed checkpoints"
    )
    _store_options(p)
    _audit_options(p, verifying=True)
    p.set_defaults(run=audit_verify)
    p = actions.add_parser(
        "seal", help="extend the hash chain over new events and sign a checkpoint"
    )
    _store_options(p)
    _audit_options(p, verifying=False)
    p.add_argument(
        "--adopt-unwitnessed",
        action="store_true",
        help="vouch with the audit key for unsealed events written without it (stores made"
        " before witnesses existed, simulation stores); check them first",
    )
    p.set_defaults(run=audit_seal)
    p = actions.add_parser("reads", help="who read a patient's data, when, and what")
    p.add_argument("patient", metavar="PATIENT", help="the patient's identifier or id")
    p.add_argument("--limit", type=int, default=1000, help="the newest this many (1000)")
    p.add_argument("--json", action="store_true", help="JSON instead of lines")
    _store_options(p)
    p.set_defaults(run=audit_reads)

    p = commands.add_parser("report", help="response-time report (JSON, CSV or PNG)")
    p.add_argument("--from", dest="start", metavar="TIME", help="calls received from (ISO)")
    p.add_argument("--to", dest="end", metavar="TIME", help="calls received before (ISO)")
    p.add_argument("--format", choices=["json", "csv", "png"], default="json")
    p.add_argument("--output", type=Path, metavar="FILE", help="write here (stdout otherwise)")
    p.add_argument(
        "--target",
        action="append",
        metavar="METRIC:PRIORITY:TIME",
        help="e.g. response:E:8:59 or turnout:*:60[@90] (repeatable; defaults: response"
        " 8:59 p90 for D and E, turnout 60 s)",
    )
    p.add_argument("--with-responses", action="store_true", help="JSON: list each response")
    _store_options(p)
    p.set_defaults(run=report)

    eido = commands.add_parser("eido", help="NENA EIDO export and import")
    actions = eido.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("export", help="print an incident as an EIDO")
    p.add_argument("incident_id", type=_incident_id, metavar="INCIDENT_ID")
    _store_options(p)
    p.set_defaults(run=eido_export)
    p = actions.add_parser("import", help="open an incident from an EIDO file")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--lat", type=float, help="location when the EIDO carries no coordinates")
    p.add_argument("--lon", type=float)
    p.add_argument("--priority", help="priority when the EIDO carries none (E, D, ... Ω)")
    p.add_argument("--actor", default="eido-import", help="who is importing")
    _store_options(p)
    p.set_defaults(run=eido_import)

    p = commands.add_parser("rebuild", help="rebuild the PostGIS read models from the log")
    p.add_argument("--batch-size", type=int, default=5000)
    _store_options(p)
    p.set_defaults(run=rebuild_command)


def run(args: argparse.Namespace) -> int:
    """Run the chosen audit command; domain refusals print and exit 2."""
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except DispatchError as exc:
        print(f"najda: {exc}", file=sys.stderr)
        return 2
