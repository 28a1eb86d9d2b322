"""Server settings from command-line arguments and NAJDA_* environment variables."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from domain.errors import InvalidValue
from domain.response_plan import ResponsePlan, default_response_plan
from domain.targets import DEFAULT_TARGETS, Targets, targets_from_mapping
from domain.values import Priority
from projections.stores import is_postgres_url

T = TypeVar("T")

_FALSE = {"0", "false", "no", "off"}


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
    seed_demo: bool = True
    read_timeout_s: float = 5.0
    poll_interval_s: float = 1.0
    stale_after_s: float = 180.0
    auto_dispatch: frozenset[Priority] = frozenset()
    client_queue: int = 5_000
    resume_buffer: int = 20_000
    admin_token: str | None = None
    road_network: Path | None = None
    ready_max_lag: int = 1_000  # positions a read model or the sealer may trail when ready
    targets_file: Path | None = None  # per-priority time targets (JSON), see domain/targets.py
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
        if self.admin_token is not None and len(self.admin_token) < 32:
            raise SettingsError("NAJDA_ADMIN_TOKEN must be 32 characters or more")

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
        if env.get("NAJDA_POLL_INTERVAL_S"):
            values["poll_interval_s"] = _number(
                float, "NAJDA_POLL_INTERVAL_S", env["NAJDA_POLL_INTERVAL_S"]
            )
        if env.get("NAJDA_STALE_AFTER_S"):
            values["stale_after_s"] = _number(
                float, "NAJDA_STALE_AFTER_S", env["NAJDA_STALE_AFTER_S"]
            )
        if env.get("NAJDA_AUTO_DISPATCH"):
            values["auto_dispatch"] = parse_priorities(env["NAJDA_AUTO_DISPATCH"])
        if env.get("NAJDA_CLIENT_QUEUE"):
            values["client_queue"] = _number(int, "NAJDA_CLIENT_QUEUE", env["NAJDA_CLIENT_QUEUE"])
        if env.get("NAJDA_RESUME_BUFFER"):
            values["resume_buffer"] = _number(
                int, "NAJDA_RESUME_BUFFER", env["NAJDA_RESUME_BUFFER"]
            )
        if env.get("NAJDA_ROAD_NETWORK"):
            values["road_network"] = Path(env["NAJDA_ROAD_NETWORK"])
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
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (non-None) values replaced."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

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
        return _load_json(self.response_plan_file, "response plan", ResponsePlan.from_mapping)

    def load_targets(self) -> dict[Priority, Targets]:
        """The per-priority time targets from the JSON file, or the defaults."""
        if self.targets_file is None:
            return dict(DEFAULT_TARGETS)
        return _load_json(self.targets_file, "targets", targets_from_mapping)


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
