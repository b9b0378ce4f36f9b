"""The console entry point runs with the collector's thresholds raised (cli/__init__.py's
GC_THRESHOLDS): a build's objects live until it ends, and the default thresholds had the
collector walk them hundreds of times. Work counted, not timed: the collections a build
makes, in a fresh interpreter, with and without the setting.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

import cli_run

from conftest import Site

_PROBE = textwrap.dedent(
    """
    import gc, json, sys
    import publisher.cli
    if json.loads(sys.argv[2]):
        publisher.cli.GC_THRESHOLDS = gc.get_threshold()  # the default, for comparison
    collections = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(1))
    sys.argv = ["publish", *json.loads(sys.argv[1])]
    try:
        publisher.cli.main()
    except SystemExit as exc:
        code = exc.code
    print(json.dumps({"code": code, "collections": len(collections)}))
    """
)


def _collections(site: Site, *args: str, default: bool = False) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(default)],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["code"] == 0, done.stderr
    return int(data["collections"])


def test_a_build_walks_its_objects_a_few_times_not_hundreds(site: Site) -> None:
    for i in range(60):
        site.post(f"p{i:02d}", f"title: Post {i}\ndate: 2024-01-{i % 28 + 1:02d}", "Body.\n" * 20)
    assert _collections(site, "-q", "build", "--jobs", "1") <= 3
    (site.posts / "p00" / "index.md").write_text(
        "---\ntitle: Edited\ndate: 2024-02-01\n---\nNew.\n", "utf-8"
    )
    assert _collections(site, "-q", "build", "--jobs", "1") <= 3
    # The same build with the default thresholds: what the setting spares.
    (site.posts / "p01" / "index.md").write_text(
        "---\ntitle: Edited\ndate: 2024-02-01\n---\nNew.\n", "utf-8"
    )
    assert _collections(site, "-q", "build", "--jobs", "1", default=True) > 20


def test_the_thresholds_are_put_back_when_the_command_ends(site: Site) -> None:
    before = gc.get_threshold()
    done = cli_run.publish("--version", cwd=site.root)
    assert done.returncode == 0
    assert gc.get_threshold() == before
