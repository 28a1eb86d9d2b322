"""`najda area import`: make an OpenStreetMap extract the operating area of a store."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from najda.api.areas import AreaImportError, import_area, register_facilities
from najda.api.settings import Settings
from najda.geo.osm_read import parse_bbox


def add_commands(commands: Any) -> None:
    """The `area` command and its `import` action."""
    from najda.api.cli import _store_options

    area = commands.add_parser(
        "area",
        help="import an OpenStreetMap extract as the operating area",
        description="Operating areas from OpenStreetMap (roads, addresses, places, facilities).",
    )
    actions = area.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="read FILE.osm.pbf: road graph, address index, proposed hospitals and stations",
        description="Read an extract into the data directory's area (the previous one stays if "
        "anything fails) and print a report. Restart `najda serve` to use it.",
    )
    imp.add_argument("extract", type=Path, metavar="FILE.osm.pbf")
    where = imp.add_mutually_exclusive_group()
    where.add_argument("--boundary", metavar="NAME", help="an administrative boundary's name")
    where.add_argument("--bbox", metavar="W,S,E,N", help="a bounding box in degrees")
    imp.add_argument(
        "--apply",
        action="store_true",
        help="register the proposed hospitals and stations (events by the importing actor)",
    )
    imp.add_argument("--actor", help="who registers them (default cli:<your user name>)")
    _store_options(imp)


def run(args: argparse.Namespace) -> int:
    """Run `najda area import`."""
    from najda.api.geocoding import address_index, refresh_index

    settings = Settings.from_env(data_dir=args.data_dir, database_url=args.database_url)
    try:
        bbox = parse_bbox(args.bbox) if args.bbox else None
        report = import_area(args.extract, settings.data_dir, boundary=args.boundary, bbox=bbox)
    except AreaImportError as exc:
        print(f"najda: {exc}", file=sys.stderr)
        return 1
    index = address_index(settings)
    try:
        refresh_index(index, report.area)
    finally:
        index.close()
    if args.apply:
        from najda.api.cli import _open_store

        dispatch, _ = _open_store(args)
        try:
            register_facilities(dispatch, report.area.facilities, args.actor or _actor(), report)
        finally:
            dispatch.close()
    print("\n".join(report.lines()))
    if not args.apply and report.area.facilities:
        print("(nothing registered: run again with --apply to register them)")
    return 0


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
