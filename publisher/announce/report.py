"""What a run decided and did: frozen data for the CLI's text, ``--json`` and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from publisher.announce.redact import redact, redact_data

#: What happened to a decision: ``would_send`` only in dry runs; ``deferred``: the target
#: stopped for this run (bad credentials, a long rate limit) before reaching it;
#: ``paused``: the target's circuit breaker opened (timeouts) before reaching it;
#: ``deadline``: the run's deadline passed first; ``interrupted``: SIGINT/SIGTERM came
#: first. The last four leave the ledger untouched: the post goes out on a later run.
Result = Literal[
    "sent",
    "in_doubt",
    "failed",
    "skipped",
    "would_send",
    "deferred",
    "paused",
    "deadline",
    "interrupted",
]
#: Results that mean "not sent this run, will be tried on the next".
PENDING: tuple[Result, ...] = ("deferred", "paused", "deadline", "interrupted")
#: Skip reasons worth a line at default verbosity: the post was not announced, and the
#: reader may want to act. ``filtered`` posts are only counted there (a category filter
#: would repeat the same lines on every run); ``seen``/``baseline`` were handled before.
NOTABLE_SKIPS = frozenset({"too_old", "not_live", "over_cap", "in_doubt"})


@dataclass(frozen=True, kw_only=True)
class Decision:
    post_id: str
    target: str
    kind: str
    reason: str
    result: Result
    detail: str = ""
    error: str | None = None
    http_status: int | None = None
    attempts: int = 0
    remote_id: str | None = None
    remote_url: str | None = None
    #: Dry runs: the exact payload (secrets redacted) and its length against the limit.
    payload: Mapping[str, Any] | None = field(default=None, compare=False)
    text: str | None = None
    length: int | None = None
    limit: int | None = None
    unit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "post": self.post_id,
            "target": self.target,
            "kind": self.kind,
            "reason": self.reason,
            "result": self.result,
            "detail": redact(self.detail) if self.detail else None,
            "error": redact(self.error) if self.error else None,
            "http_status": self.http_status,
            "attempts": self.attempts,
            "remote_id": self.remote_id,
            "remote_url": redact(self.remote_url) if self.remote_url else None,
        }
        if self.payload is not None:
            data["payload"] = redact_data(dict(self.payload))
            data["text"] = redact(self.text or "")
            data["length"] = self.length
            data["limit"] = self.limit
            data["unit"] = self.unit
        return data

    @property
    def shown_by_default(self) -> bool:
        """Printed at default verbosity: everything but routine skips (seen, baseline, filtered)."""
        return self.result not in ("skipped", "would_send") or self.reason in NOTABLE_SKIPS

    def line(self) -> str:
        """One human line: ``slack  2026-03-04-lantern-1-0  new -> sent (id 123)``."""
        parts = [f"{self.target}: {self.post_id}: {self.reason}"]
        if self.result != "skipped":
            parts.append(f"-> {self.result}")
        if self.length is not None:
            parts.append(f"({self.length}/{self.limit} {self.unit})")
        if self.remote_url or self.remote_id:
            parts.append(f"[{self.remote_url or self.remote_id}]")
        if self.error:
            parts.append(f": {self.error}")
        elif self.detail and self.result in ("skipped", *PENDING):
            parts.append(f"({self.detail})")
        return redact(" ".join(parts))


@dataclass(frozen=True, kw_only=True)
class TargetRun:
    name: str
    kind: str
    seconds: float
    baseline: bool


@dataclass(frozen=True, kw_only=True)
class AnnounceReport:
    dry_run: bool
    decisions: tuple[Decision, ...]
    targets: tuple[TargetRun, ...]
    wall_seconds: float
    #: The signal (SIGINT 2, SIGTERM 15) that stopped the run early; the CLI exits 128+it.
    interrupted: int | None = None

    def count(self, result: Result) -> int:
        return sum(d.result == result for d in self.decisions)

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def in_doubt(self) -> int:
        return self.count("in_doubt")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def paused(self) -> int:
        return self.count("paused")

    @property
    def ok(self) -> bool:
        """No failure and nothing in doubt (the CLI may exit non-zero otherwise)."""
        return self.failed == 0 and self.in_doubt == 0

    def not_announced(self) -> dict[str, int]:
        """Why posts were not sent this run (``seen`` and ``baseline`` aside): reason -> count."""
        counts: dict[str, int] = {}
        for d in self.decisions:
            if d.result == "skipped" and d.reason in ("seen", "baseline"):
                continue
            why = d.reason if d.result == "skipped" else d.result
            if d.result in ("skipped", *PENDING):
                counts[why] = counts.get(why, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> str:
        if self.dry_run:
            return f"announcements (dry run): {self.count('would_send')} would be sent"
        text = (
            f"announcements: {self.sent} sent, {self.in_doubt} in doubt, {self.failed} failed, "
            f"{self.count('deferred')} deferred"
        )
        extra = [f"{self.count(r)} {r}" for r in PENDING[1:] if self.count(r)]
        text += "".join(f", {e}" for e in extra) + f", in {self.wall_seconds:.1f} s"
        waiting = self.not_announced()
        if waiting:
            text += "; not announced: " + ", ".join(f"{n} {why}" for why, n in waiting.items())
        if self.interrupted:
            text += f"; stopped by signal {self.interrupted}: nothing more was sent"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "sent": self.sent,
            "in_doubt": self.in_doubt,
            "failed": self.failed,
            "deferred": self.count("deferred"),
            "paused": self.paused,
            "deadline": self.count("deadline"),
            "interrupted": self.interrupted,
            "not_announced": self.not_announced(),
            "would_send": self.count("would_send"),
            "wall_seconds": round(self.wall_seconds, 3),
            "targets": [
                {
                    "name": t.name,
                    "kind": t.kind,
                    "seconds": round(t.seconds, 3),
                    "baseline": t.baseline,
                }
                for t in self.targets
            ],
            "decisions": [d.as_dict() for d in self.decisions],
        }
