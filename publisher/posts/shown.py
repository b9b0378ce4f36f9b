"""How the reader names post files and problems in what it prints."""

from __future__ import annotations

import os
from pathlib import Path

from publisher.dataclass import replace
from publisher.errors import Problem
from publisher.posts.folder import below, printable_name
from publisher.posts.text import printable


def printable_problem(problem: Problem) -> Problem:
    """The problem with the post's own text in it made safe to print (see ``printable``)."""
    parts = (problem.file, problem.field, problem.message, problem.fix)
    safe = tuple(printable(part) if part is not None else None for part in parts)
    if safe == parts:
        return problem
    file, field, message, fix = safe
    assert file is not None and message is not None
    return replace(problem, file=file, field=field, message=message, fix=fix)


class Shown:
    """``display_path(path, root)`` for many paths: the working folder is asked once, not
    once per post (a Path built each time: a tenth of a second at 10,000 posts)."""

    def __init__(self, root: Path) -> None:
        self.bases = (os.fspath(root), os.fspath(Path.cwd()))

    def __call__(self, path: Path) -> str:
        text = os.fspath(path)
        for base in self.bases:
            relative = below(text, base)
            if relative is not None:
                return printable_name(relative)
        return printable_name(path.as_posix())
