"""The announcement ledger kept on a branch of the site's own repository.

GitHub runners are thrown away after each job, and caches are evicted; the ledger has to
live somewhere that is neither. ``restore`` reads ``ledger.json`` from the state branch
(default ``publisher-state``) into ``<state.folder>/announce.sqlite`` before the run;
``save`` commits the ledger back after it. The branch holds one JSON file (sorted, one row
per post and target), so ``git log -p publisher-state`` is the history of every
announcement.

What happens when something is missing (docs/automation.md, "What if the state is lost"):

* no state branch in the remote: a first run. The baseline rule applies (existing posts
  are recorded, nothing is announced) and ``save`` creates the branch. With
  ``require_branch`` (after the first run) it is an error instead.
* the branch exists but has no ``ledger.json``, or the file is not a ledger: an error;
  nothing runs, nothing is sent, nothing is overwritten.
* this folder restored from the branch before and the branch is gone or was rewritten:
  an error.
* a ledger already here (a self-hosted runner, cron before the Action): merged with the
  branch's, row by row; a row changed differently on both sides is an error.

``save`` pushes with ``--force-with-lease`` on the commit it restored, so a run that
finished in between is never overwritten: its rows are merged in (three-way, from the
restored commit) and the push is tried again; rows both runs changed differently are
reported as a conflict and the ledger here is left as it is. A push that fails for any
other reason (the network, a server error) is tried again with a growing wait; when every
try fails, the error lists the rows the branch is missing and how to record them by hand.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from publisher.announce.ledger import Ledger, LockHeld
from publisher.announce.redact import redact
from publisher.automation.git import (
    DEFAULT_BRANCH,
    LEDGER_JSON,
    StateBranch,
    commit_ledger,
    fetch,
    is_ancestor,
    ledger_at,
    remote_head,
    serialize,
    try_git,
)
from publisher.automation.merge import EMPTY, Dump, merge_ledgers
from publisher.errors import StateError

__all__ = ["DEFAULT_BRANCH", "LEDGER_JSON", "Restored", "Saved", "StateBranch", "restore", "save"]

#: In the state folder: which branch and commit the ledger here was restored from.
MARKER = "state-branch.json"


@dataclass(frozen=True, kw_only=True)
class Restored:
    commit: str | None
    rows: int
    merged_local: bool
    #: Where a damaged ledger found here was moved before the branch's was restored.
    set_aside: Path | None = None


@dataclass(frozen=True, kw_only=True)
class Saved:
    commit: str | None
    changed: bool
    merged_remote: bool


def _read_marker(state: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((state / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        raise StateError(f"{state / MARKER}: not JSON; delete it and restore again") from None
    return data if isinstance(data, dict) else None


def _write_marker(state: Path, where: StateBranch, commit: str | None) -> None:
    state.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"branch": where.branch, "commit": commit}, sort_keys=True) + "\n"
    (state / MARKER).write_text(text, encoding="utf-8")


def _dump(path: Path) -> dict[str, list[dict[str, Any]]] | None:
    if not path.exists():
        return None
    with Ledger(path, readonly=True) as ledger:
        return ledger.dump()


def _conflict(where: StateBranch, conflicts: tuple[str, ...], theirs: str) -> StateError:
    shown = ", ".join(conflicts[:10]) + (
        f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
    )
    return StateError(
        f"state branch {where.branch!r}: the ledger here and commit {theirs[:12]} both changed "
        f"{shown}; nothing was overwritten. Two runs announced at once (give the workflows "
        "one concurrency group). Compare with `publish state list`, decide per post, then "
        "run again"
    )


def restore(where: StateBranch, ledger_path: Path, *, require_branch: bool = False) -> Restored:
    """Bring the branch's ledger into ``ledger_path`` before a run; see the module docstring."""
    state = ledger_path.parent
    marker = _read_marker(state)
    base_commit = marker.get("commit") if marker and marker.get("branch") == where.branch else None
    head = remote_head(where)
    if head is None:
        if base_commit:
            raise StateError(
                f"state branch {where.branch!r} is gone from {where.remote}, but this ledger was "
                f"restored from it (commit {base_commit[:12]}); push it back "
                f"(git push {where.remote} {base_commit}:{where.ref}) or delete "
                f"{state / MARKER} to start over"
            )
        if require_branch:
            raise StateError(
                f"{where.remote} has no state branch {where.branch!r}: the ledger is lost, so "
                "nothing is run. Push the branch back from a clone that has it, or drop "
                "--require-branch for one run to record a new baseline on purpose"
            )
        _write_marker(state, where, None)
        local = _dump(ledger_path)
        rows = len(local["announcements"]) if local else 0
        return Restored(commit=None, rows=rows, merged_local=False)
    fetch(where)
    theirs = ledger_at(where, head)
    set_aside = None
    try:
        local = _dump(ledger_path)
    except LockHeld:
        raise
    except StateError:
        # Damaged here, whole on the branch: the branch's copy is the good one. The damaged
        # file is kept beside it, not deleted, in case rows of a failed save are in it.
        set_aside = ledger_path.with_name(f"{ledger_path.name}.damaged-{head[:12]}")
        os.replace(ledger_path, set_aside)
        local = None
    merged_local = False
    result: Dump = theirs
    if local is not None and local != theirs:
        base: Dump = EMPTY
        if base_commit:
            if not is_ancestor(where, base_commit, head):
                raise StateError(
                    f"state branch {where.branch!r} was rewritten: commit {base_commit[:12]}, "
                    f"which the ledger here came from, is not in its history; compare the two "
                    f"and delete {state / MARKER} once the ledger here is right"
                )
            base = ledger_at(where, base_commit)
        merged = merge_ledgers(base, local, theirs)
        if merged.conflicts:
            raise _conflict(where, merged.conflicts, head)
        result = merged.dump
        merged_local = True
    with Ledger(ledger_path) as ledger:
        ledger.load(dict(result))
    _write_marker(state, where, head)
    return Restored(
        commit=head,
        rows=len(result["announcements"]),
        merged_local=merged_local,
        set_aside=set_aside,
    )


#: Words in git's answer that mean trying again cannot help: permissions, a protected branch.
_PERMANENT = (
    "403",
    "permission",
    "denied",
    "not allowed",
    "protected branch",
    "gh006",
    "authentication failed",
    "could not read username",
    "repository not found",
)


#: Object ids and the "To <remote>" line git echoes: a hash such as f532132fd40322 or a
#: temporary path must not read as "403" (a push refused by a 502 was once given up at once).
_ECHOED = re.compile(r"^\s*to \S+\s*$|\b[0-9a-f]{7,64}\b", re.MULTILINE)


def is_permanent(refusal: str) -> bool:
    """Git's answer to a push says trying again cannot help (see ``_PERMANENT``): matched
    as whole words, in the answer without the object ids and remote it echoes."""
    text = _ECHOED.sub(" ", refusal.lower())
    return any(re.search(rf"\b{re.escape(word)}\b", text) for word in _PERMANENT)


class _Transient(Exception):
    """A push, fetch or ls-remote that failed for a reason a later try may not meet."""


def save(
    where: StateBranch,
    ledger_path: Path,
    *,
    message: str = "publisher: ledger",
    attempts: int = 5,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Saved:
    """Commit the ledger to the branch after a run; merges a run that finished in between.

    A failed push is tried again up to ``attempts`` times, waiting ``backoff`` seconds, then
    twice that, and so on: a network error or a server hiccup must not lose the rows of
    what this run sent (the runner, and the ledger on it, are thrown away after the job).
    A refusal that retrying cannot fix (permissions, a protected branch) stops at once.
    """
    state = ledger_path.parent
    marker = _read_marker(state)
    if marker is None or marker.get("branch") != where.branch:
        raise StateError(
            f"{state}: the ledger here was not restored from state branch {where.branch!r}; "
            "run `publish automation restore` before the run, so no other run's rows are lost"
        )
    dumped = _dump(ledger_path)
    if dumped is None:
        return Saved(commit=marker.get("commit"), changed=False, merged_remote=False)
    ours: Dump = dumped
    restored: str | None = marker.get("commit")
    base = restored
    merged_remote = False
    problem = "no try was made"
    for attempt in range(attempts):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            outcome = _save_once(where, ledger_path, ours, base, message)
        except _Transient as exc:
            problem = str(exc)
            continue
        if isinstance(outcome, Saved):
            return Saved(
                commit=outcome.commit, changed=outcome.changed, merged_remote=merged_remote
            )
        # Another run committed since we restored: its rows are merged in; push again.
        ours, base, merged_remote = outcome[0], outcome[1], True
        problem = f"state branch {where.branch!r} kept moving"
    raise StateError(
        f"cannot save the ledger to state branch {where.branch!r} after {attempts} tries "
        f"({problem}). The ledger here is kept: run `publish automation save` again while this "
        f"machine lasts. {_unsaved(where, restored, ours)}"
    )


def _save_once(
    where: StateBranch, ledger_path: Path, ours: Dump, base: str | None, message: str
) -> Saved | tuple[Dump, str]:
    """One push: Saved, or (merged ledger, new base) when another run saved first."""
    state = ledger_path.parent
    if base is not None:
        if try_git(where, "cat-file", "-e", base).returncode != 0:
            _transient(fetch, where)
        if ledger_at(where, base) == ours:
            return Saved(commit=base, changed=False, merged_remote=False)
    commit = commit_ledger(where, serialize(ours), base, message)
    lease = f"--force-with-lease={where.ref}:{base or ''}"
    pushed = try_git(where, "push", "--quiet", lease, where.remote, f"{commit}:{where.ref}")
    if pushed.returncode == 0:
        _write_marker(state, where, commit)
        return Saved(commit=commit, changed=True, merged_remote=False)
    refusal = redact(pushed.stderr.strip() or pushed.stdout.strip())
    if is_permanent(refusal):
        raise StateError(
            f"cannot push state branch {where.branch!r} to {where.remote}: {refusal}. In GitHub "
            "Actions the job needs `permissions: contents: write`, and the branch must not be "
            f"protected; the ledger here is kept. {_unsaved(where, base, ours)}"
        )
    head = _transient(remote_head, where)
    if head is None and base is not None:
        raise StateError(
            f"state branch {where.branch!r} was deleted from {where.remote} during the run; "
            f"the ledger here is kept: push it back (git push {where.remote} "
            f"{base}:{where.ref}) and run the save again"
        )
    if head == base:
        raise _Transient(f"git push failed: {refusal}")
    _transient(fetch, where)
    assert head is not None
    theirs = ledger_at(where, head)
    merged = merge_ledgers(ledger_at(where, base) if base else EMPTY, ours, theirs)
    if merged.conflicts:
        raise _conflict(where, merged.conflicts, head)
    with Ledger(ledger_path) as ledger:
        ledger.load(merged.dump)
    _write_marker(state, where, head)
    return merged.dump, head


T = TypeVar("T")


def _transient(call: Callable[[StateBranch], T], where: StateBranch) -> T:
    """``call(where)``, with a git failure turned into one worth trying again."""
    try:
        return call(where)
    except StateError as exc:
        raise _Transient(str(exc)) from None


def _unsaved(where: StateBranch, restored: str | None, ours: Dump) -> str:
    """The rows this run recorded that the branch does not have, and how to keep them."""
    try:
        before = ledger_at(where, restored) if restored else EMPTY
    except StateError:
        before = EMPTY
    old = {(r["target"], r["post_id"]): r for r in before.get("announcements", [])}
    sent = sorted(
        (str(r["target"]), str(r["post_id"]))
        for r in ours.get("announcements", [])
        if old.get((r["target"], r["post_id"])) != r and r.get("status") in ("sent", "in_doubt")
    )
    if not sent:
        return "This run sent nothing the branch does not know of."
    listed = ", ".join(f"{target}/{post}" for target, post in sent[:20])
    more = f" and {len(sent) - 20} more" if len(sent) > 20 else ""
    first_target, first_post = sent[0]
    return (
        f"Not on the branch yet: {listed}{more}. If this machine is gone, after the next "
        f"restore run `publish state mark-sent POST --target TARGET` for each (e.g. "
        f"`publish state mark-sent {first_post} --target {first_target}`) so none is "
        "announced twice"
    )
