"""Server settings from command-line arguments and NAJDA_* environment variables."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from najda.domain.access.user import token_weakness
from najda.domain.care.patient_identity import DEFAULT_PATIENT_SYSTEM, require_system
from najda.domain.dispatch.response_plan import ResponsePlan, default_response_plan
from najda.domain.dispatch.targets import DEFAULT_TARGETS, Targets, targets_from_mapping
from najda.domain.errors import InvalidValue
from najda.domain.values import Priority
from najda.projections.audit.signing_key import public_path
from najda.projections.policies.dispatch import POLICIES
from najda.projections.store.environment import is_postgres_url

T = TypeVar("T")

_FALSE = {"0", "false", "no", "off"}
#: Demo areas `najda serve` can start an empty store with.
DEMO_AREAS = ("liechtenstein", "sahil")
#: Numeric settings from the environment: variable -> (field, type).
_NUMBERS: dict[str, tuple[str, type[int] | type[float]]] = {
    "NAJDA_POLL_INTERVAL_S": ("poll_interval_s", float),
    "NAJDA_STALE_AFTER_S": ("stale_after_s", float),
    "NAJDA_CLIENT_QUEUE": ("client_queue", int),
    "NAJDA_RESUME_BUFFER": ("resume_buffer", int),
    "NAJDA_RESUME_BUFFER_BYTES": ("resume_buffer_bytes", int),
    "NAJDA_WS_SEND_TIMEOUT_S": ("ws_send_timeout_s", float),
    "NAJDA_TOKEN_TTL_DAYS": ("token_ttl_days", float),
    "NAJDA_AUTH_FAILURES": ("auth_failures_per_minute", int),
}


class SettingsError(ValueError):
    """Raised when a setting is unusable (bad URL, unreadable plan file, bad number)."""


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Agency:
    """Who Najda speaks for in the EIDOs it issues: an id, a name and the agency's domain
    (EIDO ids end in it, e.g. urn:emergency:uid:incidentid:<id>:<domain>)."""

    id: str = "najda.example"
    name: str = "Najda dispatch centre"
    domain: str = "najda.example"

    def __post_init__(self) -> None:
        if not _DOMAIN.match(self.domain):
            raise SettingsError(f"agency domain must be a DNS name, got {self.domain!r}")
        if not self.id.strip() or not self.name.strip():
            raise SettingsError("agency id and name must not be empty")


@dataclass(frozen=True)
class Settings:
    """Where the events live, where to listen, and how the server behaves."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    response_plan_file: Path | None = None
    seed_demo: bool | None = None  # None: the embedded store asks for the demo, PostgreSQL not
    read_timeout_s: float = 5.0
    poll_interval_s: float = 1.0
    stale_after_s: float = 180.0
    auto_dispatch: frozenset[Priority] = frozenset()
    client_queue: int = 5_000
    resume_buffer: int = 20_000
    resume_buffer_bytes: int = 32 * 1024 * 1024
    admin_token: str | None = None
    road_network: Path | None = None
    #: The dispatch policy recommendations follow (projections/policies); None: closest-road
    #: when the server has roads, else closest-straight.
    policy: str | None = None
    ready_max_lag: int = 1_000  # positions a read model or the sealer may trail when ready
    audit_key: Path | None = None  # default: <data dir>/audit/najda-audit.key
    public_key: Path | None = None  # default: the audit key's path + ".pub"
    checkpoint_dir: Path | None = None  # default: <data dir>/checkpoints
    checkpoint_interval_s: float = 60.0
    max_unsealed_age_s: float = 300.0
    patient_system: str = DEFAULT_PATIENT_SYSTEM
    fhir_structure: bool = True
    agency: Agency = field(default_factory=lambda: Agency())
    #: The demo area an empty embedded store starts with: the real `liechtenstein` (from the
    #: bundled OpenStreetMap extract) or the invented town `sahil` (the tests' fixture).
    demo_area: str = "liechtenstein"
    ws_send_timeout_s: float = 30.0
    token_ttl_days: float = 90.0
    auth_failures_per_minute: int = 10
    tls_cert: Path | None = None
    tls_key: Path | None = None
    targets_file: Path | None = None  # per-priority time targets (JSON): domain/dispatch/targets.py
    #: New calls of these priorities sound the console's alarm (life-threatening, critical,
    #: serious by default).
    alarm_priorities: frozenset[Priority] = frozenset({Priority.E, Priority.D, Priority.C})

    def __post_init__(self) -> None:
        if self.database_url is not None and not is_postgres_url(self.database_url):
            raise SettingsError(
                f"database URL must start with postgresql:// (got {self.redacted_url()!r})"
            )
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be within 0..65535, got {self.port}")
        if self.read_timeout_s <= 0 or self.poll_interval_s <= 0 or self.stale_after_s <= 0:
            raise SettingsError("timeouts and intervals must be positive")
        if self.client_queue < 10 or self.resume_buffer < 100:
            raise SettingsError("the client queue holds 10 or more, the resume buffer 100 or more")
        if self.ready_max_lag < 0:
            raise SettingsError(f"NAJDA_READY_MAX_LAG must be 0 or more, got {self.ready_max_lag}")
        if self.road_network is not None and not self.road_network.is_dir():
            raise SettingsError(f"road network {self.road_network}: not a directory")
        if self.policy is not None and self.policy not in POLICIES:
            raise SettingsError(
                f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}"
            )
        if self.checkpoint_interval_s <= 0 or self.max_unsealed_age_s <= 0:
            raise SettingsError("the checkpoint interval and unsealed age must be positive")
        try:
            require_system(self.patient_system, "NAJDA_PATIENT_SYSTEM")
        except InvalidValue as exc:
            raise SettingsError(f"NAJDA_PATIENT_SYSTEM: {exc.message}") from None
        if self.demo_area not in DEMO_AREAS:
            raise SettingsError(
                f"demo area must be one of {', '.join(DEMO_AREAS)}, got {self.demo_area!r}"
            )
        if self.resume_buffer_bytes < 1024 * 1024:
            raise SettingsError("the resume buffer holds 1 MiB (1048576 bytes) or more")
        if self.ws_send_timeout_s <= 0 or self.token_ttl_days < 0:
            raise SettingsError("the send timeout is positive; the token lifetime 0 or more")
        if self.auth_failures_per_minute < 1:
            raise SettingsError("NAJDA_AUTH_FAILURES must be 1 or more")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("give both --tls-cert and --tls-key, or neither")
        for name, path in (("TLS certificate", self.tls_cert), ("TLS key", self.tls_key)):
            if path is not None and not path.is_file():
                raise SettingsError(f"{name} {path}: no such file")
        if self.admin_token is not None:
            weakness = token_weakness(self.admin_token)
            if weakness is not None:
                raise SettingsError(
                    f"NAJDA_ADMIN_TOKEN is too weak: it {weakness}; "
                    "make a strong one with `openssl rand -base64 32`"
                )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from NAJDA_* variables; explicit overrides (not None) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if env.get("NAJDA_DATA_DIR"):
            values["data_dir"] = Path(env["NAJDA_DATA_DIR"])
        if env.get("NAJDA_DATABASE_URL"):
            values["database_url"] = env["NAJDA_DATABASE_URL"]
        if env.get("NAJDA_HOST"):
            values["host"] = env["NAJDA_HOST"]
        if env.get("NAJDA_PORT"):
            values["port"] = _number(int, "NAJDA_PORT", env["NAJDA_PORT"])
        if env.get("NAJDA_RESPONSE_PLAN"):
            values["response_plan_file"] = Path(env["NAJDA_RESPONSE_PLAN"])
        if env.get("NAJDA_SEED_DEMO"):
            values["seed_demo"] = env["NAJDA_SEED_DEMO"].strip().lower() not in _FALSE
        for variable, (field_name, kind) in _NUMBERS.items():
            if env.get(variable):
                values[field_name] = _number(kind, variable, env[variable])
        if env.get("NAJDA_AUTO_DISPATCH"):
            values["auto_dispatch"] = parse_priorities(env["NAJDA_AUTO_DISPATCH"])
        for name in ("tls_cert", "tls_key"):
            if env.get(f"NAJDA_{name.upper()}"):
                values[name] = Path(env[f"NAJDA_{name.upper()}"])
        if env.get("NAJDA_ROAD_NETWORK"):
            values["road_network"] = Path(env["NAJDA_ROAD_NETWORK"])
        if env.get("NAJDA_POLICY"):
            values["policy"] = env["NAJDA_POLICY"].strip().lower()
        if env.get("NAJDA_DEMO_AREA"):
            values["demo_area"] = env["NAJDA_DEMO_AREA"].strip().lower()
        if env.get("NAJDA_TARGETS"):
            values["targets_file"] = Path(env["NAJDA_TARGETS"])
        if env.get("NAJDA_ALARM_PRIORITIES") is not None:
            values["alarm_priorities"] = parse_priorities(
                env["NAJDA_ALARM_PRIORITIES"], "NAJDA_ALARM_PRIORITIES"
            )
        if env.get("NAJDA_ADMIN_TOKEN"):
            values["admin_token"] = env["NAJDA_ADMIN_TOKEN"]
        if env.get("NAJDA_READY_MAX_LAG"):
            values["ready_max_lag"] = _number(
                int, "NAJDA_READY_MAX_LAG", env["NAJDA_READY_MAX_LAG"]
            )
        values.update(_audit_values(env))
        if env.get("NAJDA_PATIENT_SYSTEM"):
            values["patient_system"] = env["NAJDA_PATIENT_SYSTEM"].strip()
        if env.get("NAJDA_FHIR_STRUCTURE"):
            values["fhir_structure"] = env["NAJDA_FHIR_STRUCTURE"].strip().lower() not in _FALSE
        agency = {
            key: env[f"NAJDA_AGENCY_{key.upper()}"].strip()
            for key in ("id", "name", "domain")
            if env.get(f"NAJDA_AGENCY_{key.upper()}")
        }
        if agency:
            if "domain" in agency:  # the agency's id is its domain unless given
                agency.setdefault("id", agency["domain"])
            values["agency"] = Agency(**agency)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def token_expiry(self, now: datetime) -> datetime | None:
        """When a token issued now stops working (None when tokens do not expire)."""
        return None if self.token_ttl_days == 0 else now + timedelta(days=self.token_ttl_days)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (non-None) values replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def wants_demo(self) -> bool:
        """Whether an empty store is seeded with the demo area: asked for with --demo or
        NAJDA_SEED_DEMO=1; by default only the embedded store (never PostgreSQL) is."""
        return self.seed_demo if self.seed_demo is not None else not self.uses_postgres

    @property
    def uses_postgres(self) -> bool:
        """True when events (and read models) live in PostgreSQL/PostGIS."""
        return self.database_url is not None

    @property
    def audit_key_path(self) -> Path:
        """The audit signing key file (made on first use, mode 0600)."""
        return self.audit_key or self.data_dir / "audit" / "najda-audit.key"

    @property
    def public_key_path(self) -> Path:
        """The audit public key verifiers use."""
        return self.public_key or public_path(self.audit_key_path)

    @property
    def checkpoint_path(self) -> Path:
        """The directory signed checkpoints are written to (ship it to write-once storage)."""
        return self.checkpoint_dir or self.data_dir / "checkpoints"

    @property
    def sqlite_path(self) -> Path:
        """The embedded event store file."""
        return self.data_dir / "najda.sqlite"

    def redacted_url(self) -> str:
        """The database URL without its password, for logs and messages."""
        if self.database_url is None:
            return ""
        parts = urlparse(self.database_url)
        if parts.password is None:
            return self.database_url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()

    def store_description(self) -> str:
        """One line naming the store, e.g. 'sqlite /srv/najda/najda.sqlite'."""
        if self.uses_postgres:
            return f"postgresql {self.redacted_url()}"
        return f"sqlite {self.sqlite_path.resolve()}"

    def load_response_plan(self) -> ResponsePlan:
        """The response plan from the JSON file, or the default plan."""
        if self.response_plan_file is None:
            return default_response_plan()
        return _load_json(self.response_plan_file, "response plan", ResponsePlan.from_mapping)

    def load_targets(self) -> dict[Priority, Targets]:
        """The per-priority time targets from the JSON file, or the defaults."""
        if self.targets_file is None:
            return dict(DEFAULT_TARGETS)
        return _load_json(self.targets_file, "targets", targets_from_mapping)


def _audit_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The tamper-evidence settings among NAJDA_* variables."""
    values: dict[str, Any] = {}
    for name, key in (
        ("NAJDA_AUDIT_KEY", "audit_key"),
        ("NAJDA_AUDIT_PUBLIC_KEY", "public_key"),
        ("NAJDA_CHECKPOINT_DIR", "checkpoint_dir"),
    ):
        if env.get(name):
            values[key] = Path(env[name])
    for name, key in (
        ("NAJDA_CHECKPOINT_INTERVAL_S", "checkpoint_interval_s"),
        ("NAJDA_MAX_UNSEALED_AGE_S", "max_unsealed_age_s"),
    ):
        if env.get(name):
            values[key] = _number(float, name, env[name])
    return values


def _load_json(path: Path, what: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    """Build settings from a JSON object in a file; every failure names the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read {what} {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SettingsError(f"{what} {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{what} {path} must hold a JSON object")
    try:
        return build(data)
    except InvalidValue as exc:
        raise SettingsError(f"{what} {path}: {exc}") from None


def parse_priorities(text: str, name: str = "auto-dispatch priorities") -> frozenset[Priority]:
    """Priorities from a comma-separated list such as 'Ω,A' (empty: none)."""
    try:
        return frozenset(Priority.parse(p) for p in text.split(",") if p.strip())
    except InvalidValue as exc:
        raise SettingsError(f"{name}: {exc.message}") from None


def _number(kind: type[int] | type[float], name: str, text: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {text!r}") from None
