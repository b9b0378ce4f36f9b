"""Three-way merge of two ledger dumps that grew from one base: rows, not bytes.

Two runs that restored the same state and then each recorded announcements produce two
ledgers. A row (post, target) that only one side changed is taken from that side; a row
both changed the same way is kept; a row both changed differently is a conflict, never
resolved by picking one. Targets merge the same way, except that two first runs of one
target keep the earlier baseline time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Dump = Mapping[str, list[dict[str, Any]]]
EMPTY: Dump = {"targets": [], "announcements": []}


@dataclass(frozen=True, kw_only=True)
class Merged:
    dump: dict[str, list[dict[str, Any]]]
    #: ``target/post`` of rows both sides changed differently.
    conflicts: tuple[str, ...]


def _index(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    return {tuple(row[k] for k in key): row for row in rows}


def _merge_rows(
    base: list[dict[str, Any]],
    ours: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
    key: tuple[str, ...],
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    b, o, t = _index(base, key), _index(ours, key), _index(theirs, key)
    rows: list[dict[str, Any]] = []
    conflicts: list[tuple[Any, ...]] = []
    for k in sorted(set(b) | set(o) | set(t)):
        mine, yours, was = o.get(k), t.get(k), b.get(k)
        if mine == yours or yours == was:
            chosen = mine
        elif mine == was:
            chosen = yours
        else:
            conflicts.append(k)
            continue
        if chosen is not None:
            rows.append(chosen)
    return rows, conflicts


def merge_ledgers(base: Dump, ours: Dump, theirs: Dump) -> Merged:
    """``ours`` and ``theirs`` both grew from ``base``; see the module docstring."""
    targets, target_conflicts = _merge_rows(
        list(base.get("targets", [])),
        list(ours.get("targets", [])),
        list(theirs.get("targets", [])),
        ("name",),
    )
    conflicts: list[str] = []
    mine = _index(list(ours.get("targets", [])), ("name",))
    yours = _index(list(theirs.get("targets", [])), ("name",))
    for (name,) in target_conflicts:
        a, b = mine.get((name,)), yours.get((name,))
        if a is not None and b is not None and a["kind"] == b["kind"]:
            targets.append(a if a["baseline_at"] <= b["baseline_at"] else b)
        else:
            conflicts.append(f"target {name}")
    rows, row_conflicts = _merge_rows(
        list(base.get("announcements", [])),
        list(ours.get("announcements", [])),
        list(theirs.get("announcements", [])),
        ("target", "post_id"),
    )
    conflicts += [f"{target}/{post_id}" for target, post_id in row_conflicts]
    return Merged(
        dump={"targets": sorted(targets, key=lambda t: str(t["name"])), "announcements": rows},
        conflicts=tuple(conflicts),
    )
