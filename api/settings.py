"""Server settings from command-line arguments and NAJDA_* environment variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from domain.errors import InvalidValue
from domain.response_plan import ResponsePlan, default_response_plan
from domain.user import token_weakness
from domain.values import Priority
from projections.stores import is_postgres_url

_FALSE = {"0", "false", "no", "off"}
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
    ws_send_timeout_s: float = 30.0
    token_ttl_days: float = 90.0
    auth_failures_per_minute: int = 10
    tls_cert: Path | None = None
    tls_key: Path | None = None

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
        if self.road_network is not None and not self.road_network.is_dir():
            raise SettingsError(f"road network {self.road_network}: not a directory")
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
        if env.get("NAJDA_ADMIN_TOKEN"):
            values["admin_token"] = env["NAJDA_ADMIN_TOKEN"]
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
        path = self.response_plan_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"cannot read response plan {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise SettingsError(f"response plan {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"response plan {path} must hold a JSON object")
        try:
            return ResponsePlan.from_mapping(data)
        except InvalidValue as exc:
            raise SettingsError(f"response plan {path}: {exc}") from None


def parse_priorities(text: str) -> frozenset[Priority]:
    """Priorities from a comma-separated list such as 'Ω,A' (empty: none)."""
    try:
        return frozenset(Priority.parse(p) for p in text.split(",") if p.strip())
    except InvalidValue as exc:
        raise SettingsError(f"auto-dispatch priorities: {exc.message}") from None


def _number(kind: type[int] | type[float], name: str, text: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {text!r}") from None
