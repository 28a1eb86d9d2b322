"""Walks the stored events against their seals; names the first altered, removed or moved one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from uuid import UUID

from domain.hashchain import GENESIS, link
from projections.eventlog import EventLog, RawEvent
from projections.seal import SEAL_TABLE, Sealer, digest_of

#: At one position, what the seal proves comes before what the stream sequence suggests.
_RANK = {"seal-altered": 1, "out-of-sequence": 2}


@dataclass(frozen=True)
class Seal:
    """One row of the seal table."""

    position: int
    digest: str
    chain: str


@dataclass(frozen=True)
class Finding:
    """Something in the store that does not match what was sealed."""

    kind: str  # altered, removed, inserted, reordered, out-of-sequence, seal-altered
    position: int
    detail: str
    originator_id: UUID | None = None
    version: int | None = None

    def text(self) -> str:
        """One line naming the event."""
        where = f"event at position {self.position}"
        if self.originator_id is not None:
            where += f" ({self.originator_id} v{self.version})"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class Verification:
    """What a walk of the store found."""

    rows: int = 0
    sealed: int = 0
    unsealed: int = 0
    chain_head: str = GENESIS
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was altered, removed, inserted or reordered."""
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The first finding in log order, if any."""
        return self.findings[0] if self.findings else None


def _rows(log: EventLog, batch: int, progress: Callable[[int], None] | None) -> Iterator[RawEvent]:
    after = 0
    while rows := log.scan(after, batch):
        yield from rows
        after = rows[-1].position
        if progress is not None:
            progress(len(rows))


def _seals(log: EventLog, batch: int) -> Iterator[Seal]:
    after = 0
    while True:
        with log.transaction() as runner:
            found = runner.fetch(
                f"SELECT position, digest, chain FROM {SEAL_TABLE} WHERE position > ?"
                f" ORDER BY position LIMIT {int(batch)}",
                [after],
            )
        if not found:
            return
        for r in found:
            yield Seal(int(r["position"]), str(r["digest"]), str(r["chain"]))
        after = int(found[-1]["position"])


class _Walk:
    """The state of one verification walk."""

    def __init__(self, log: EventLog, sealed_head: int, max_findings: int) -> None:
        self.log = log
        self.sealed_head = sealed_head
        self.max_findings = max_findings
        self.result = Verification()
        self.chain = GENESIS
        self.versions: dict[UUID, int] = {}

    def add(self, finding: Finding) -> None:
        if len(self.result.findings) < self.max_findings:
            self.result.findings.append(finding)

    def seal(self, s: Seal) -> None:
        expected = link(self.chain, s.position, s.digest)
        if expected != s.chain:
            self.add(Finding("seal-altered", s.position, "the seal row does not chain"))
        self.chain = s.chain
        self.result.sealed += 1

    def stream(self, r: RawEvent) -> None:
        before = self.versions.get(r.originator_id, 0)
        if r.version != before + 1:
            self.add(
                Finding(
                    "out-of-sequence",
                    r.position,
                    f"version {r.version} follows version {before} in its stream",
                    r.originator_id,
                    r.version,
                )
            )
        self.versions[r.originator_id] = max(before, r.version)

    def matched(self, r: RawEvent, s: Seal) -> None:
        digest = digest_of(r)
        if digest != s.digest:
            moved = self._sealed_at(digest)
            if moved is not None:
                detail = f"holds the event sealed at position {moved}"
                self.add(Finding("reordered", r.position, detail, r.originator_id, r.version))
            else:
                detail = "its content differs from what was sealed"
                self.add(Finding("altered", r.position, detail, r.originator_id, r.version))
        self.seal(s)

    def _sealed_at(self, digest: str) -> int | None:
        with self.log.transaction() as runner:
            found = runner.fetch(
                f"SELECT position FROM {SEAL_TABLE} WHERE digest = ? LIMIT 1", [digest]
            )
        return int(found[0]["position"]) if found else None

    def unsealed(self, r: RawEvent) -> None:
        if r.position <= self.sealed_head:
            detail = "not in the sealed chain (added after sealing)"
            self.add(Finding("inserted", r.position, detail, r.originator_id, r.version))
        else:
            self.result.unsealed += 1


def verify(
    log: EventLog,
    *,
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
    max_findings: int = 20,
) -> Verification:
    """Check every stored row against the chain and every stream's version sequence."""
    sealer = Sealer(log)
    walk = _Walk(log, sealer.sealed_position(), max_findings)
    rows, seals = _rows(log, batch, progress), _seals(log, batch)
    r, s = next(rows, None), next(seals, None)
    while r is not None or s is not None:
        if r is None or (s is not None and s.position < r.position):
            if s is None:  # both exhausted (the loop condition rules this out)
                break
            walk.add(Finding("removed", s.position, "a sealed event is missing from the store"))
            walk.seal(s)
            s = next(seals, None)
            continue
        walk.result.rows += 1
        walk.stream(r)
        if s is not None and s.position == r.position:
            walk.matched(r, s)
            s = next(seals, None)
        else:
            walk.unsealed(r)
        r = next(rows, None)
    walk.result.chain_head = walk.chain
    walk.result.findings.sort(key=lambda f: (f.position, _RANK.get(f.kind, 0)))
    return walk.result
