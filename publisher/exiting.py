"""What a ``publish`` process keeps until it ends, when it ends without tearing down.

A build that runs as its own process ends with ``os._exit`` once its files are written
(``publisher.cli._exit``): nothing it made is freed one object at a time. But a function
that returns frees its locals first, and the build's last ones hold everything it read:
the stat pass (30,000 entries at 10,000 posts), the site table's rows, the posts, the
feeds' plans. Freeing them took a one-post build at 10,000 posts 16 to 25 ms, at 1,000
posts 2 to 3 ms, after its last file was written (issue 12).

So such a process keeps them: :func:`keep_frame` holds the calling function's frame, whose
locals then outlive its return (a frame object that outlives its call keeps them), and the
process ends with them. Only a plain build does (``publisher.cli``: the one the fast path
hands over, one build and the end); a build through click, another command (preview
builds again and again in one process), a test or a script keeps nothing:
:func:`expect_fast_exit` was not called there.

A leaf module (the standard library's ``sys`` only).
"""

from __future__ import annotations

import sys

#: What is kept until the process ends; None: nothing is (not a ``publish`` process).
_kept: list[object] | None = None


def expect_fast_exit() -> None:
    """This process ends with ``os._exit`` when the command returns: keep from now on."""
    global _kept
    if _kept is None:
        _kept = []


def keep(*objects: object) -> None:
    """Hold ``objects`` until the process ends (if it ends fast; else nothing)."""
    if _kept is not None:
        _kept.extend(objects)


def keep_frame() -> None:
    """Hold the caller's locals until the process ends, past the caller's return (if it
    ends fast; else nothing)."""
    if _kept is not None:
        _kept.append(sys._getframe(1))


def release() -> None:
    """Keep nothing more, and let go of what was kept: the process goes on (a normal
    exit tears it down, or a caller goes on using it)."""
    global _kept
    _kept = None
