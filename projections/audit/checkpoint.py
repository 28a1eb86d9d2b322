"""Signed checkpoints of the hash chain's head, written to a directory outside the database.

Each checkpoint is a small JSON file (`checkpoint-<position>.json`, never rewritten) naming
a sealed position and the chain value there, signed with the audit key. An operator ships
the directory to write-once storage; `najda audit verify` checks the chain against them.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from najda.projections.audit.signing_key import AuditKey, PublicKey

FORMAT = "najda-checkpoint/1"
_PREFIX = "checkpoint-"


@dataclass(frozen=True)
class Checkpoint:
    """The chain value at a sealed position, as the application signed it."""

    position: int
    chain: str
    signed_at: datetime
    store: str
    key: str  # the signing key's fingerprint
    file: Path | None = None

    def body(self) -> dict[str, Any]:
        """The signed fields."""
        return {
            "format": FORMAT,
            "position": self.position,
            "chain": self.chain,
            "signed_at": self.signed_at.isoformat(),
            "store": self.store,
            "key": self.key,
        }

    def name(self) -> str:
        """Its file name, or `checkpoint at position N` when it has none."""
        return self.file.name if self.file else f"checkpoint at position {self.position}"


def _message(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def file_name(position: int) -> str:
    """The file name of the checkpoint at `position` (sorts by position)."""
    return f"{_PREFIX}{position:020d}.json"


def write_checkpoint(directory: Path, key: AuditKey, checkpoint: Checkpoint) -> Path | None:
    """Write the signed checkpoint, atomically and without replacing one (mode 0600).

    Returns the file, or None when a checkpoint at that position already exists.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = checkpoint.body()
    document = {**body, "signature": key.sign(_message(body))}
    target = directory / file_name(checkpoint.position)
    if target.exists():
        return None
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, target)  # fails rather than replace an existing checkpoint
        except FileExistsError:
            return None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _sync_directory(directory)
    return target


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Loaded:
    """The checkpoints found in a directory: the genuine ones and the files refused."""

    valid: list[Checkpoint]
    refused: list[tuple[Path, str]]

    @property
    def newest(self) -> Checkpoint | None:
        """The checkpoint at the highest position."""
        return max(self.valid, key=lambda c: c.position, default=None)


def load_checkpoints(directory: Path, public: PublicKey) -> Loaded:
    """Every checkpoint file in `directory`, its signature checked against `public`."""
    valid: list[Checkpoint] = []
    refused: list[tuple[Path, str]] = []
    if not directory.is_dir():
        return Loaded(valid, refused)
    for path in sorted(directory.glob(f"{_PREFIX}*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            signature = str(document.pop("signature"))
            checkpoint = Checkpoint(
                position=int(document["position"]),
                chain=str(document["chain"]),
                signed_at=datetime.fromisoformat(str(document["signed_at"])),
                store=str(document["store"]),
                key=str(document["key"]),
                file=path,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            refused.append((path, f"unreadable ({exc})"))
            continue
        if document.get("format") != FORMAT or checkpoint.body() != document:
            refused.append((path, "not a checkpoint in the format this version writes"))
        elif not public.verify(signature, _message(document)):
            refused.append((path, "its signature does not match the public key"))
        else:
            valid.append(checkpoint)
    return Loaded(valid, refused)
