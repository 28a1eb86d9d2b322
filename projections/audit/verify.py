"""Walks the stored events against their seals, the signed checkpoints and the application's
witnesses; names the first altered, removed, moved, truncated or forged one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from najda.domain.audit.hashchain import GENESIS, link
from najda.projections.audit.checkpoint import Checkpoint, Loaded
from najda.projections.audit.seal import SEAL_TABLE, Sealer, digest_of
from najda.projections.audit.signing_key import PublicKey
from najda.projections.audit.witness import Witnessed, witnessed
from najda.projections.store.event_rows import EventLog, RawEvent

#: At one position, what the seal proves comes before what the stream sequence suggests.
_RANK = {"forged": 1, "seal-altered": 2, "out-of-sequence": 3}
#: Findings about the store as a whole (their position is where they bite, or 0).
_STORE_WIDE = {
    "truncated",
    "rewritten",
    "checkpoint-refused",
    "no-checkpoint",
    "unsealed-too-long",
}


@dataclass(frozen=True)
class Seal:
    """One row of the seal table."""

    position: int
    digest: str
    chain: str


@dataclass(frozen=True)
class Finding:
    """Something in the store that does not match what was sealed."""

    kind: str  # altered, removed, inserted, reordered, out-of-sequence, seal-altered,
    # truncated, rewritten, forged, checkpoint-refused, no-checkpoint, unsealed-too-long
    position: int
    detail: str
    originator_id: UUID | None = None
    version: int | None = None

    def text(self) -> str:
        """One line naming the event."""
        if self.kind in _STORE_WIDE:
            return f"{self.kind}: {self.detail}"
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
    checkpoint: Checkpoint | None = None  # the newest signed checkpoint the chain was held to
    oldest_unsealed: datetime | None = None
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

    def __init__(
        self,
        log: EventLog,
        sealed_head: int,
        max_findings: int,
        checkpoints: list[Checkpoint],
        public: PublicKey,
    ) -> None:
        self.log = log
        self.sealed_head = sealed_head
        self.max_findings = max_findings
        self.result = Verification()
        self.chain = GENESIS
        self.versions: dict[UUID, int] = {}
        self.checkpoints = {c.position: c for c in checkpoints}
        self.reached: set[int] = set()
        self.public = public
        newest = max(self.checkpoints, default=0)
        self.witness_after = newest  # rows past the newest checkpoint: check their witness
        self.vouched = Witnessed({}, [])
        self.vouched_from = self.vouched_upto = 0

    def add(self, finding: Finding) -> None:
        if len(self.result.findings) < self.max_findings:
            self.result.findings.append(finding)

    def seal(self, s: Seal) -> None:
        expected = link(self.chain, s.position, s.digest)
        if expected != s.chain:
            self.add(Finding("seal-altered", s.position, "the seal row does not chain"))
        self.chain = s.chain
        self.result.sealed += 1
        checkpoint = self.checkpoints.get(s.position)
        if checkpoint is not None:
            self.reached.add(s.position)
            if checkpoint.chain != s.chain:
                detail = (
                    f"the chain at position {s.position} differs from the one signed in"
                    f" {checkpoint.name()} at {checkpoint.signed_at.isoformat()}: events or"
                    " seals up to there were rewritten"
                )
                self.add(Finding("rewritten", s.position, detail))

    def witness(self, r: RawEvent, *, unsealed: bool = False) -> None:
        """Past the newest checkpoint (and wherever a row is unsealed), every row must be
        one the application witnessed."""
        if r.position <= self.witness_after and not unsealed:
            return
        if not self.vouched_upto >= r.position >= self.vouched_from:
            last = r.position + 5000
            with self.log.transaction() as runner:
                self.vouched = witnessed(runner, self.public, r.position, last)
            self.vouched_from, self.vouched_upto = r.position, last
        signed = self.vouched.digests.get(r.position)
        if signed is None:
            detail = "the application did not write it (no valid witness): a forged append"
            self.add(Finding("forged", r.position, detail, r.originator_id, r.version))
        elif signed != digest_of(r):
            detail = "its content differs from what the application wrote (its witness)"
            self.add(Finding("forged", r.position, detail, r.originator_id, r.version))

    def checkpoints_missed(self) -> None:
        """Checkpoints whose position the store's chain no longer reaches."""
        ends = f"the store's chain ends at position {self.sealed_head}"
        for position, checkpoint in sorted(self.checkpoints.items()):
            if position in self.reached:
                continue
            detail = (
                f"{checkpoint.name()} signed the chain up to position {position} at"
                f" {checkpoint.signed_at.isoformat()}, but the store has no seal there"
                f" ({ends}): events and seals were removed or rewritten"
            )
            self.add(Finding("truncated", position, detail))

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
        if r.position <= self.witness_after:  # (later rows were checked already)
            self.witness(r, unsealed=True)
        if r.position <= self.sealed_head:
            detail = "not in the sealed chain (added after sealing)"
            self.add(Finding("inserted", r.position, detail, r.originator_id, r.version))
        else:
            self.result.unsealed += 1
            if self.result.oldest_unsealed is None:
                self.result.oldest_unsealed = self.log.decode(r).timestamp


@dataclass(frozen=True)
class Trust:
    """What the verifier holds outside the store: the public key and the checkpoints."""

    public: PublicKey
    checkpoints: Loaded
    max_unsealed_age: timedelta = timedelta(minutes=5)
    now: datetime | None = None  # when the check runs (UTC-aware), for the unsealed age


def verify(
    log: EventLog,
    trust: Trust,
    *,
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
    max_findings: int = 20,
) -> Verification:
    """Check every stored row against the chain and every stream's version sequence, the
    chain against the signed checkpoints, and the rows after the newest checkpoint against
    the application's witnesses; fail when rows stay unsealed longer than allowed."""
    sealer = Sealer(log, trust.public)
    walk = _Walk(log, sealer.sealed_position(), max_findings, trust.checkpoints.valid, trust.public)
    walk.result.checkpoint = trust.checkpoints.newest
    for path, why in trust.checkpoints.refused:
        walk.add(Finding("checkpoint-refused", 0, f"{path}: {why}"))
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
        walk.witness(r)
        if s is not None and s.position == r.position:
            walk.matched(r, s)
            s = next(seals, None)
        else:
            walk.unsealed(r)
        r = next(rows, None)
    walk.result.chain_head = walk.chain
    walk.checkpoints_missed()
    _store_wide(walk, trust)
    walk.result.findings.sort(key=lambda f: (f.position, _RANK.get(f.kind, 0)))
    return walk.result


def _store_wide(walk: _Walk, trust: Trust) -> None:
    """Findings about the whole store: no checkpoint to hold it to, rows left unsealed."""
    result = walk.result
    if result.sealed and trust.checkpoints.newest is None:
        detail = (
            "no signed checkpoint found: without one, events and seals removed from the end"
            " of the chain, or rewritten with it, cannot be told apart from a genuine store"
        )
        walk.add(Finding("no-checkpoint", 0, detail))
    oldest = result.oldest_unsealed
    if oldest is not None and trust.now is not None:
        age = trust.now - oldest
        if age > trust.max_unsealed_age:
            detail = (
                f"{result.unsealed} events are not sealed, the oldest recorded"
                f" {oldest.isoformat()} ({int(age.total_seconds())} s ago, more than"
                f" {int(trust.max_unsealed_age.total_seconds())} s): is the sealer running?"
            )
            walk.add(Finding("unsealed-too-long", walk.sealed_head + 1, detail))
