"""The audit signing key (Ed25519): kept in a file outside the event store, made on first use."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class AuditKeyError(RuntimeError):
    """Raised when the audit key or public key cannot be read, made or used."""


def public_path(private: Path) -> Path:
    """Where the public key of a private key file is written: beside it, `.pub` added."""
    return private.with_name(private.name + ".pub")


@dataclass(frozen=True)
class PublicKey:
    """What a verifier holds: checks signatures, never makes them."""

    key: Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, hex (names the key in checkpoints)."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()

    def verify(self, signature: str, message: bytes) -> bool:
        """True when `signature` (base64) is this key's signature of `message`."""
        try:
            self.key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> bytes:
        """The key in PEM (SubjectPublicKeyInfo)."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True)
class AuditKey:
    """The application's signing key: witnesses its own writes and signs checkpoints."""

    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature of `message`, base64."""
        return base64.b64encode(self.key.sign(message)).decode("ascii")


def load_or_create_key(path: Path) -> AuditKey:
    """The key in `path` (PEM, PKCS#8); made with mode 0600 (its folder 0700) when missing.

    The public key is (re)written beside it as `<path>.pub` for verifiers.
    """
    if path.exists():
        key = load_key(path)
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = Ed25519PrivateKey.generate()
        pem = made.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use that one
            return load_or_create_key(path)
        except OSError as exc:
            raise AuditKeyError(f"cannot create the audit key {path}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        key = AuditKey(made)
    pub = public_path(path)
    if not pub.exists() or pub.read_bytes() != key.public.pem():
        pub.write_bytes(key.public.pem())
    return key


def load_key(path: Path) -> AuditKey:
    """The private key in `path`; refused when other users may read it."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise AuditKeyError(
            f"the audit key {path} may be read by other users (mode {mode & 0o777:o});"
            f" run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise AuditKeyError(f"{path} holds no usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return AuditKey(key)


def load_public_key(path: Path) -> PublicKey:
    """The public key in `path` (PEM)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the public key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise AuditKeyError(f"{path} holds no usable public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return PublicKey(key)
