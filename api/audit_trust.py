"""What the server and the audit commands need for tamper evidence: key, checkpoints, trust."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from najda.api.settings import Settings, SettingsError
from najda.domain.application import Dispatch
from najda.projections.audit.checkpoint import load_checkpoints
from najda.projections.audit.seal import SealPolicy
from najda.projections.audit.signing_key import (
    AuditKey,
    AuditKeyError,
    load_or_create_key,
    load_public_key,
)
from najda.projections.audit.verify import Trust
from najda.projections.audit.witness import attach_witness


def audit_key(settings: Settings) -> AuditKey:
    """The audit signing key the settings name (made on first use)."""
    try:
        return load_or_create_key(settings.audit_key_path)
    except AuditKeyError as exc:
        raise SettingsError(str(exc)) from None


def witnessed(dispatch: Dispatch, settings: Settings) -> AuditKey:
    """Make the application witness its writes with the settings' key; the key."""
    key = audit_key(settings)
    attach_witness(dispatch, key)
    return key


def seal_policy(settings: Settings, key: AuditKey) -> SealPolicy:
    """How the server seals and signs checkpoints."""
    return SealPolicy(
        key=key,
        checkpoint_dir=settings.checkpoint_path,
        checkpoint_interval_s=settings.checkpoint_interval_s,
        store=settings.store_description(),
    )


def trust(settings: Settings) -> Trust:
    """The public key and checkpoints a verification holds the store to."""
    try:
        public = load_public_key(settings.public_key_path)
    except AuditKeyError as exc:
        raise SettingsError(f"{exc} (give the audit public key: --public-key)") from None
    return Trust(
        public=public,
        checkpoints=load_checkpoints(settings.checkpoint_path, public),
        max_unsealed_age=timedelta(seconds=settings.max_unsealed_age_s),
        now=datetime.now(UTC),
    )
