"""A separate process running announcements, for the SIGKILL and concurrency tests.

argv[1] is a JSON file: {"state", "targets": [[name, kind, raw]], "posts": n} and optionally
"ledger" (a file or postgresql:// URL instead of state/announce.sqlite) and "start_at" (a
time.time() to wait for, so racing children start together), and "forgetful": kinds whose
adapters are told the platform forgets idempotency keys at once (``key_lifetime`` 0), so
every unconfirmed row is read back. Prints the report as JSON and,
like the CLI, exits 128 + the signal number when SIGINT/SIGTERM stopped the run.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fakes.harness import announce
from fakes.posts import make_post, target
from publisher.announce import RetryPolicy
from publisher.announce.registry import announcer_class


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for kind in spec.get("forgetful", []):
        announcer_class(kind).key_lifetime = timedelta(0)
    targets = [target(name, kind, raw) for name, kind, raw in spec["targets"]]
    posts = [make_post(i) for i in range(spec["posts"])]
    extra = {"ledger_path": spec["ledger"]} if spec.get("ledger") else {}
    if spec.get("start_at"):
        time.sleep(max(0.0, spec["start_at"] - time.time()))
    report = announce(
        targets,
        posts,
        Path(spec["state"]),
        policy=RetryPolicy(attempts=3, base=0.05, cap=0.2, budget=5.0),
        lock_wait=spec.get("lock_wait", 0.0),
        **extra,
    )
    print(json.dumps(report.as_dict()), flush=True)
    if report.interrupted:
        sys.exit(128 + report.interrupted)


if __name__ == "__main__":
    main()
