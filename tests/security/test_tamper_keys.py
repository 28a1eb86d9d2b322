"""The audit key: made on first use with mode 0600 in a 0700 folder, its public key beside it,
refused when others may read it; checkpoints verify only with the matching public key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from najda.projections.audit.checkpoint import Checkpoint, load_checkpoints, write_checkpoint
from najda.projections.audit.signing_key import (
    AuditKeyError,
    load_key,
    load_or_create_key,
    load_public_key,
    public_path,
)


def test_the_key_is_made_once_private_with_its_public_key_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "najda-audit.key"

    made = load_or_create_key(path)
    again = load_or_create_key(path)

    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert again.public.fingerprint == made.public.fingerprint
    public = load_public_key(public_path(path))
    assert public.fingerprint == made.public.fingerprint
    assert public.verify(made.sign(b"x"), b"x") and not public.verify(made.sign(b"x"), b"y")


def test_a_key_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    load_or_create_key(path)
    path.chmod(0o640)

    with pytest.raises(AuditKeyError, match="may be read by other users"):
        load_key(path)


def test_a_checkpoint_is_written_once_and_verifies_with_its_key_only(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "k")
    other = load_or_create_key(tmp_path / "other")
    made = Checkpoint(42, "ab" * 32, datetime(2026, 1, 2, tzinfo=UTC), "sqlite x", "f")

    first = write_checkpoint(tmp_path / "cp", key, made)
    second = write_checkpoint(tmp_path / "cp", key, made)

    assert first == tmp_path / "cp" / "checkpoint-00000000000000000042.json"
    assert second is None  # never rewritten
    assert first.stat().st_mode & 0o777 == 0o600
    [loaded] = load_checkpoints(tmp_path / "cp", key.public).valid
    assert (loaded.position, loaded.chain, loaded.signed_at) == (42, "ab" * 32, made.signed_at)
    refused = load_checkpoints(tmp_path / "cp", other.public)
    assert refused.valid == [] and "signature does not match" in refused.refused[0][1]
