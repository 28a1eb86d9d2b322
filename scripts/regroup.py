#!/usr/bin/env python3
"""Regroups domain/ and projections/ by concern and moves every first-party import under `najda`.

Issue 16. Idempotent, standard library only; run from anywhere inside the git work tree:

    python3 scripts/regroup.py            # move, rewrite, print what changed
    python3 scripts/regroup.py --check    # change nothing; exit 1 when something would change

What it does, in order:
1. `git mv` each module of MOVES that still sits at its old path to its new path (creating the
   sub-package with a one-line `__init__.py`); modules not in the table stay where they are.
2. Makes the `najda/` link tree: `najda/__init__.py` and one relative symlink per top-level
   folder (`najda/domain -> ../domain`, ...), so mypy and a plain checkout see `najda.*`.
3. Rewrites every first-party reference in the tracked text files (Python, Markdown, TOML,
   shell, JS/HTML comments): `from domain.x import` and `import api.y` statements, dotted
   strings and comments (`"projections.witness:WitnessingSQLiteRecorder"`, `"api.logs.X"`,
   `python -m api.cli`), `resources.files("geo")`, and `domain/x.py` paths of moved modules.
   Python code outside import statements, strings and comments is never touched, so a local
   variable called `projections` keeps its name.
4. Sorts the rewritten files' imports with ruff (`ruff check --fix --select I`) when a ruff
   is found, and names any rewritten line still over 100 characters.
5. Writes the `packages` list of `[tool.setuptools]` in pyproject.toml from the folders on
   disk (between the `# regroup: packages` markers), so the wheel holds every sub-package.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Callable, Iterable
from pathlib import Path

#: The top-level folders installed as `najda.<name>` (they stay where they are).
TOPS = ("domain", "projections", "api", "geo", "simulations")

#: Old module (dotted, without `najda.`) -> new module. New sub-packages get the docstring
#: of SUBPACKAGES. A module missing here stays where it is.
MOVES: dict[str, str] = {
    # domain: dispatch (incidents, units, the resources they use)
    "domain.incident": "domain.dispatch.incident",
    "domain.unit": "domain.dispatch.unit",
    "domain.reference": "domain.dispatch.stations_hospitals",
    "domain.hospital_status": "domain.dispatch.hospital_status",
    "domain.reporting": "domain.dispatch.incident_opening",
    "domain.reassign": "domain.dispatch.reassign",
    "domain.duplicates": "domain.dispatch.duplicates",
    "domain.coverage": "domain.dispatch.coverage",
    "domain.response_plan": "domain.dispatch.response_plan",
    "domain.targets": "domain.dispatch.targets",
    "domain.location_fix": "domain.dispatch.location_fix",
    "domain.crew_commands": "domain.dispatch.crew_commands",
    "domain.commands": "domain.dispatch.command_inputs",
    # domain: care and monitoring
    "domain.patient": "domain.care.patient",
    "domain.patients": "domain.care.monitoring_use_cases",
    "domain.monitoring": "domain.care.alerting",
    "domain.vitals": "domain.care.vitals",
    "domain.escalation": "domain.care.escalation",
    "domain.patient_devices": "domain.care.patient_devices",
    "domain.patient_identity": "domain.care.patient_identity",
    "domain.consult": "domain.care.consult",
    "domain.care_commands": "domain.care.consult_and_hospital_use_cases",
    # domain: access
    "domain.user": "domain.access.user",
    # domain: audit
    "domain.hashchain": "domain.audit.hashchain",
    "domain.correlation": "domain.audit.correlation",
    # domain: persistence (the event-store side of the application)
    "domain.store": "domain.persistence.atomic_store",
    "domain.command_cache": "domain.persistence.aggregate_cache",
    "domain.client_command": "domain.persistence.client_command",
    "domain.transcodings": "domain.persistence.transcodings",
    # projections: dispatch
    "projections.board": "projections.dispatch.board",
    "projections.board_rules": "projections.dispatch.board_rules",
    "projections.embedded": "projections.dispatch.in_memory",
    "projections.postgis_board": "projections.dispatch.postgis_board",
    "projections.locator": "projections.dispatch.locator",
    "projections.postgis_locator": "projections.dispatch.postgis_locator",
    "projections.road_locator": "projections.dispatch.road_locator",
    "projections.recommend": "projections.dispatch.recommendations",
    "projections.destinations": "projections.dispatch.destinations",
    "projections.reference": "projections.dispatch.stations_hospitals",
    "projections.changes": "projections.dispatch.read_model_changes",
    "projections.history": "projections.dispatch.incident_history",
    # projections: addresses (geocoding)
    "projections.geocoder": "projections.addresses.geocoder",
    "projections.address_index": "projections.addresses.index",
    "projections.address_pg": "projections.addresses.postgres_index",
    "projections.address_sqlite": "projections.addresses.sqlite_index",
    # projections: care and monitoring
    "projections.monitoring": "projections.care.monitoring_board",
    "projections.consults": "projections.care.consult_queue",
    # projections: access
    "projections.users": "projections.access.user_directory",
    # projections: audit
    "projections.seal": "projections.audit.seal",
    "projections.verify": "projections.audit.verify",
    "projections.witness": "projections.audit.witness",
    "projections.checkpoint": "projections.audit.checkpoint",
    "projections.audit_key": "projections.audit.signing_key",
    "projections.read_log": "projections.audit.patient_reads",
    "projections.timeline": "projections.audit.timeline",
    "projections.as_of": "projections.audit.as_of",
    "projections.sentences": "projections.audit.timeline_sentences",
    # projections: reports
    "projections.intervals": "projections.reports.nemsis_intervals",
    "projections.response_report": "projections.reports.response_times",
    # projections: store configuration and raw reads
    "projections.stores": "projections.store.environment",
    "projections.postgis": "projections.store.postgis_pool",
    "projections.eventlog": "projections.store.event_rows",
    "projections.fast_log": "projections.store.fast_log_reader",
    "projections.threads": "projections.store.threads",
    "projections.model_store": "projections.store.saved_read_models",
    "projections.model_saver": "projections.store.read_model_saver",
    # modules that came with later features
    "domain.user_commands": "domain.access.user_commands",
    "domain.reference_commands": "domain.dispatch.reference_commands",
}

#: One-line docstrings of the sub-packages MOVES creates.
SUBPACKAGES: dict[str, str] = {
    "domain.dispatch": "Dispatch: incidents, units, stations, hospitals, plans, crews' commands.",
    "domain.care": "Care and monitoring: monitored patients, vital signs, alerts, teleconsults.",
    "domain.access": "Access: the people and systems allowed to use Najda.",
    "domain.audit": "Audit: the hash chain over the log and the request each command ran for.",
    "domain.persistence": "The event-store side of the application: saves, cache, transcodings.",
    "projections.dispatch": "Dispatch read models: unit locator, incident board, recommendations.",
    "projections.addresses": "Address search: the geocoder and each store's address index.",
    "projections.care": "Care read models: the monitoring board and the teleconsult queue.",
    "projections.access": "Access read models: the directory of users by token.",
    "projections.audit": "Audit: seals, witnesses, signed checkpoints, verification, timelines.",
    "projections.reports": "Reports: NEMSIS intervals and response-time percentiles.",
    "projections.store": "Store configuration and raw reads of the event log.",
}

#: Text files rewritten, by suffix (plus these names).
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".cfg", ".ini", ".txt", ".js", ".html", ".yml"}
TEXT_NAMES = {"Makefile", "Dockerfile"}
#: Tracked paths never rewritten: this script (it names the old modules) and recorded data.
SKIP_PREFIXES = ("scripts/regroup.py", "tests/unit/test_regroup.py", "tests/fixtures/", ".git/")

_TOPS = "|".join(TOPS)
DOTTED = re.compile(rf"(?<![\w.\-/])((?:najda\.)?(?:{_TOPS})(?:\.[A-Za-z_]\w*)+)")
PATH = re.compile(rf"(?<![\w./\-])((?:{_TOPS})(?:/\w+)+)\.py\b")
#: The longest line ruff allows (pyproject.toml); longer rewritten lines are reported.
LINE_LENGTH = 100
PRAGMA = re.compile(r"\s*#\s*(?:type:|noqa|pragma)[^#]*$")
PACKAGES_BLOCK = re.compile(
    r"(# regroup: packages \(written by scripts/regroup\.py\)\n)(.*?)(# regroup: end\n)", re.S
)


def _check_table() -> None:
    """No new name may be (or sit under) an old one, else a second run would move it again."""
    for new in MOVES.values():
        for old in MOVES:
            if new == old or new.startswith(old + "."):
                raise SystemExit(f"regroup: {new} would be moved again by {old}")


def module_path(root: Path, dotted: str) -> Path:
    """The file of a dotted module (without `najda.`)."""
    return root.joinpath(*dotted.split(".")).with_suffix(".py")


def git(root: Path, *args: str) -> str:
    """Run git in the work tree; its output."""
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


# --- 1. moves -----------------------------------------------------------------------------


def move_modules(root: Path, dry: bool, say: Callable[[str], None]) -> bool:
    """`git mv` every module still at its old path; True when something moved."""
    changed = False
    for old, new in MOVES.items():
        src, dst = module_path(root, old), module_path(root, new)
        if not src.exists():
            if not dst.exists():
                say(f"skip {old}: neither {src.relative_to(root)} nor its new place exist")
            continue
        if dst.exists():
            raise SystemExit(f"regroup: both {src} and {dst} exist; merge them by hand")
        changed = True
        say(f"move {src.relative_to(root)} -> {dst.relative_to(root)}")
        if dry:
            continue
        ensure_package(root, new.rpartition(".")[0])
        git(root, "mv", str(src.relative_to(root)), str(dst.relative_to(root)))
    return changed


def ensure_package(root: Path, package: str) -> None:
    """Make a sub-package folder with its one-line `__init__.py` (and `git add` it)."""
    init = root.joinpath(*package.split(".")) / "__init__.py"
    if init.exists():
        return
    init.parent.mkdir(parents=True, exist_ok=True)
    doc = SUBPACKAGES.get(package, f"The {package.rpartition('.')[2]} modules.")
    init.write_text(f'"""{doc}"""\n')
    git(root, "add", str(init.relative_to(root)))


# --- 2. the najda link tree -----------------------------------------------------------------

NAJDA_INIT = '"""Najda: event-sourced emergency dispatch coordination (one installed package)."""\n'


def link_tree(root: Path, dry: bool, say: Callable[[str], None]) -> bool:
    """`najda/__init__.py` and `najda/<top> -> ../<top>` symlinks; True when made now."""
    changed = False
    init = root / "najda" / "__init__.py"
    if not init.exists():
        changed = True
        say("make najda/__init__.py")
        if not dry:
            init.parent.mkdir(exist_ok=True)
            init.write_text(NAJDA_INIT)
            git(root, "add", "najda/__init__.py")
    for top in TOPS:
        link = root / "najda" / top
        if link.is_symlink() and os.readlink(link) == f"../{top}":
            continue
        if link.exists() or link.is_symlink():
            raise SystemExit(f"regroup: {link} exists and is not the link ../{top}")
        changed = True
        say(f"link najda/{top} -> ../{top}")
        if not dry:
            link.symlink_to(f"../{top}", target_is_directory=True)
            git(root, "add", f"najda/{top}")
    return changed


# --- 3. references ----------------------------------------------------------------------------


def known_modules(root: Path) -> set[str]:
    """Dotted names (without `najda.`) of every first-party module and package, old and new."""
    names = set(TOPS) | set(MOVES) | set(MOVES.values()) | set(SUBPACKAGES)
    for top in TOPS:
        for path in (root / top).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


class Rewriter:
    """Maps first-party dotted names and paths to their regrouped `najda.` form."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.by_length = sorted(MOVES, key=len, reverse=True)

    def module(self, dotted: str) -> str:
        """A first-party module name, moved and under `najda.`; others unchanged."""
        bare = dotted.removeprefix("najda.")
        if bare.split(".")[0] not in TOPS:
            return dotted
        for old in self.by_length:
            if bare == old or bare.startswith(old + "."):
                bare = MOVES[old] + bare[len(old) :]
                break
        return "najda." + bare

    def reference(self, match: re.Match[str]) -> str:
        """A dotted reference in text: rewritten only when it starts with a known module
        of at least two parts (so `api.js` or `geo.example.org` stay as they are)."""
        dotted = match.group(1)
        parts = dotted.removeprefix("najda.").split(".")
        if not any(".".join(parts[:i]) in self.known for i in range(2, len(parts) + 1)):
            return dotted
        return self.module(dotted)

    def path(self, match: re.Match[str]) -> str:
        """A `domain/x.py` path of a moved module, to its new path (folders stay)."""
        dotted = match.group(1).replace("/", ".")
        moved = self.module(dotted).removeprefix("najda.")
        return moved.replace(".", "/") + ".py"

    def text(self, text: str) -> str:
        """Rewrite references in prose, strings, comments and configuration."""
        text = DOTTED.sub(self.reference, text)
        return PATH.sub(self.path, text)

    def python(self, source: str) -> str:
        """Rewrite import statements, strings and comments of Python source."""
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
        at_statement_start = True
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            starts_import = tok.type == tokenize.NAME and tok.string in ("from", "import")
            if starts_import and at_statement_start:
                i = self._import(tokens, i, edits)
                at_statement_start = False
                continue
            if tok.type in (tokenize.STRING, tokenize.COMMENT):
                new = self.text(tok.string)
                if tok.string[1:-1] in TOPS and _called(tokens, i, "files"):
                    new = f"{tok.string[0]}najda.{tok.string[1:-1]}{tok.string[-1]}"
                if new != tok.string:
                    edits.append((tok.start, tok.end, new))
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                at_statement_start = True
            elif tok.type != tokenize.COMMENT:
                at_statement_start = tok.type == tokenize.OP and tok.string == ";"
            i += 1
        return apply_edits(source, edits)

    def _import(
        self,
        tokens: list[tokenize.TokenInfo],
        i: int,
        edits: list[tuple[tuple[int, int], tuple[int, int], str]],
    ) -> int:
        """Rewrite the module names of the import statement at token i; the next index."""
        keyword = tokens[i].string
        i += 1
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == tokenize.NAME and tok.string not in ("import", "as"):
                start = i
                while (
                    i + 2 < len(tokens)
                    and tokens[i + 1].string == "."
                    and tokens[i + 2].type == tokenize.NAME
                ):
                    i += 2
                dotted = "".join(t.string for t in tokens[start : i + 1])
                new = self.module(dotted)
                if new != dotted:
                    edits.append((tokens[start].start, tokens[i].end, new))
                i += 1
                if keyword == "from":  # `from x import names`: a name may be a moved module
                    end = i
                    while end < len(tokens) and tokens[end].type not in (
                        tokenize.NEWLINE,
                        tokenize.ENDMARKER,
                    ):
                        end += 1
                    split = self._split_from(dotted, tokens[i + 1 : end])
                    if split is not None:
                        if new != dotted:  # the whole statement is replaced instead
                            edits.pop()
                        first = tokens[start - 1]  # the `from` keyword
                        glue = "\n" + " " * first.start[1]
                        edits.append((first.start, tokens[end - 1].end, glue.join(split)))
                    return end
                # `import a.b as c, d`: skip an alias
                if i < len(tokens) and tokens[i].string == "as":
                    i += 2
                continue
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or tok.string == ";":
                return i
            i += 1
        return i

    def _split_from(self, package: str, names: list[tokenize.TokenInfo]) -> list[str] | None:
        """`from package import a, b as c` as several statements when an imported name is a
        moved module (`from domain import consult` -> `from najda.domain.care import
        consult`); None when none is."""
        pairs: list[tuple[str, str]] = []
        words = [t.string for t in names if t.type == tokenize.NAME]
        k = 0
        while k < len(words):
            if k + 2 < len(words) and words[k + 1] == "as":
                pairs.append((words[k], words[k + 2]))
                k += 3
            else:
                pairs.append((words[k], words[k]))
                k += 1
        bare = package.removeprefix("najda.")
        if bare.split(".")[0] not in TOPS or not any(f"{bare}.{n}" in MOVES for n, _ in pairs):
            return None
        rest = [n if n == a else f"{n} as {a}" for n, a in pairs if f"{bare}.{n}" not in MOVES]
        lines = [f"from {self.module(bare)} import {', '.join(rest)}"] if rest else []
        for name, alias in pairs:
            if f"{bare}.{name}" in MOVES:
                parent, _, leaf = MOVES[f"{bare}.{name}"].rpartition(".")
                tail = leaf if leaf == alias else f"{leaf} as {alias}"
                lines.append(f"from najda.{parent} import {tail}")
        return lines


def _called(tokens: list[tokenize.TokenInfo], i: int, function: str) -> bool:
    """Whether token i is the first argument of a call of `function` (`files("geo")`)."""
    return i >= 2 and tokens[i - 1].string == "(" and tokens[i - 2].string == function


def apply_edits(source: str, edits: list[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    """Replace (start, end) token spans, given as (row, col) pairs, in source."""
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out, last = [], 0
    for (r0, c0), (r1, c1), new in sorted(edits):
        a, b = offsets[r0 - 1] + c0, offsets[r1 - 1] + c1
        out.append(source[last:a])
        out.append(new)
        last = b
    out.append(source[last:])
    return "".join(out)


def tracked_text_files(root: Path) -> Iterable[Path]:
    """The tracked (and staged) text files the rewrite covers."""
    for name in git(root, "ls-files", "-z").split("\0"):
        if not name or name.startswith(SKIP_PREFIXES):
            continue
        path = root / name
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            yield path


def rewrite_references(root: Path, dry: bool, say: Callable[[str], None]) -> list[Path]:
    """Rewrite references in every tracked text file; the files changed."""
    rewriter = Rewriter(known_modules(root))
    changed: list[Path] = []
    for path in tracked_text_files(root):
        try:
            before = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".py":
            after = rewriter.python(before)
        elif path.name == "pyproject.toml":
            after = sync_packages(root, rewriter.text(before))
        else:
            after = rewriter.text(before)
        if after != before:
            changed.append(path)
            say(f"rewrite {path.relative_to(root)}")
            if not dry:
                path.write_text(after, encoding="utf-8")
    return changed


def sort_imports(
    root: Path, files: list[Path], ruff: str | None, say: Callable[[str], None]
) -> None:
    """Let ruff re-sort (and re-wrap) the import blocks of the rewritten Python files, then
    name every rewritten line still longer than the limit (to shorten by hand)."""
    python = [str(p.relative_to(root)) for p in files if p.suffix == ".py"]
    if python and ruff:
        subprocess.run([ruff, "check", "--quiet", "--fix", "--select", "I", *python], cwd=root)
    elif python:
        say("regroup: no ruff found; run `ruff check --fix --select I .` to sort the imports")
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = PRAGMA.sub("", line)  # ruff does not count a trailing pragma comment
            if path.suffix == ".py" and len(code) > LINE_LENGTH:
                say(f"regroup: {path.relative_to(root)}:{n} is longer than {LINE_LENGTH}")


def find_ruff(root: Path) -> str | None:
    """The project's ruff (its .venv's, else one on PATH)."""
    local = root / ".venv" / "bin" / "ruff"
    return str(local) if local.exists() else shutil.which("ruff")


# --- 4. the packages list -----------------------------------------------------------------------


def packages_on_disk(root: Path) -> list[str]:
    """Every installed package: `najda` and each folder with an `__init__.py` under a top."""
    found = ["najda"]
    for top in TOPS:
        for init in sorted((root / top).rglob("__init__.py")):
            parts = init.parent.relative_to(root).parts
            if "__pycache__" not in parts:
                found.append("najda." + ".".join(parts))
    return sorted(found)


def sync_packages(root: Path, pyproject: str) -> str:
    """pyproject.toml with the list between the regroup markers written from disk."""
    listed = "".join(f'    "{p}",\n' for p in packages_on_disk(root))
    return PACKAGES_BLOCK.sub(lambda m: m[1] + listed + m[3], pyproject)


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the regroup (or only check it with --check); 0 when done or nothing to do."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; 1 when it would")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    parser.add_argument("--ruff", help="the ruff that sorts imports (default: .venv's, PATH's)")
    args = parser.parse_args(argv)
    _check_table()
    root = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())

    def say(line: str) -> None:
        if not args.quiet:
            print(line)

    changed = move_modules(root, args.check, say)
    changed |= link_tree(root, args.check, say)
    if args.check and changed:
        return 1  # references cannot be checked before the moves are made
    rewritten = rewrite_references(root, args.check, say)
    if args.check:
        return 1 if rewritten else 0
    changed |= bool(rewritten)
    sort_imports(root, rewritten, args.ruff or find_ruff(root), say)
    if not changed:
        say("regroup: nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
