"""No import cycles inside publisher/, counting the imports made inside functions too.

A cycle hidden in a function works until someone moves the import to the top of the file
(or a new import makes the order matter), then fails with an ImportError far from the
change. Every ``import``/``from`` in every module is read with :mod:`ast`, wherever it
sits (``if TYPE_CHECKING:`` blocks excepted: they never run), relative imports resolved,
and ``from package import module`` counted as an import of the module.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "publisher"

#: Imports that close a cycle, left out of the graph until their owner removes them:
#: (importing module, imported package or module: its submodules too) -> owner. Empty: a
#: new cycle fails. (The last one, announce -> config for TargetConfig, is now an
#: annotation-only import under TYPE_CHECKING.)
ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


Found = ast.Import | ast.ImportFrom | ast.Constant


def _import_nodes(tree: ast.AST) -> Iterator[Found]:
    """Every import statement and string, at any depth, except under ``if TYPE_CHECKING:``."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Constant):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


def _base(name: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _with_packages(target: str, importer: str) -> Iterator[str]:
    """``target`` and the packages Python runs first to import it (``publisher.cards.options``
    runs ``publisher/cards/__init__.py``), but for the importer's own packages: they are
    already being imported when it runs."""
    parts = target.split(".")
    for end in range(2, len(parts) + 1):
        package = ".".join(parts[:end])
        if end == len(parts) or not importer.startswith(package + "."):
            yield package


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The publisher modules ``name`` imports, with the packages that importing them runs
    (a name imported from a package that is a module itself counts as that module; so does
    a string that is a module's whole name: a table of modules loaded by ``importlib``)."""
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant):
            targets = [node.value] if isinstance(node.value, str) else []
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _base(name, node, path.name == "__init__.py")
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        found.update(
            module
            for target in targets
            if target in known
            for module in _with_packages(target, name)
            if module in known and module != name
        )
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def tangles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module: every module in one
    can reach every other (Tarjan's algorithm, iterative: the graph may be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[frozenset[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(frozenset(component))
    return components


def cycle_in(component: frozenset[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first module, to print."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & component):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")  # a component always has one


def test_importing_a_module_runs_its_packages_first() -> None:
    assert list(_with_packages("publisher.cards.options", "publisher.config.loader")) == [
        "publisher.cards",
        "publisher.cards.options",
    ]
    # Its own package is being imported already when a module runs.
    assert list(_with_packages("publisher.cards.meta", "publisher.cards.build")) == [
        "publisher.cards.meta"
    ]


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    source = tmp_path / "publisher" / "pkg"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("from . import a\n")
    (source / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from publisher.pkg import c\n"
        "def f():\n    from .b import thing\n"
    )
    (source / "d.py").write_text('LAZY = {"c": "publisher.pkg.c"}\n')
    (source / "b.py").write_text("def g():\n    import publisher.pkg.a\n")
    (source / "c.py").write_text("from publisher.pkg import a\n")
    files = {"publisher.pkg": source / "__init__.py"}
    files.update({f"publisher.pkg.{n}": source / f"{n}.py" for n in "abcd"})
    found = {name: imports_of(name, path, set(files)) for name, path in files.items()}
    assert found == {
        "publisher.pkg": {"publisher.pkg.a"},
        "publisher.pkg.a": {"publisher.pkg.b"},  # TYPE_CHECKING imports never run
        "publisher.pkg.b": {"publisher.pkg.a"},
        "publisher.pkg.c": {"publisher.pkg.a"},
        "publisher.pkg.d": {"publisher.pkg.c"},  # loaded by name
    }
    (tangle,) = tangles(found)
    assert cycle_in(tangle, found) == ["publisher.pkg.a", "publisher.pkg.b", "publisher.pkg.a"]


def _allowed(importer: str, target: str) -> tuple[str, str] | None:
    for source, package in ALLOWED:
        if importer == source and (target == package or target.startswith(package + ".")):
            return source, package
    return None


def test_publisher_has_no_import_cycle() -> None:
    edges = graph()
    used = {_allowed(a, b) for a, targets in edges.items() for b in targets} - {None}
    kept = {a: {b for b in targets if not _allowed(a, b)} for a, targets in edges.items()}
    found = [" -> ".join(cycle_in(t, kept)) for t in tangles(kept)]
    shown = "\n".join(found)
    assert not found, f"import cycles (move the shared part to a module both import):\n{shown}"
    # A listed import that is gone is good news, not a failure (the branch that removes it
    # may land first): it only asks for the list to be emptied.
    for gone in set(ALLOWED) - used:
        warnings.warn(f"no longer imported, remove from ALLOWED: {gone}", stacklevel=1)


def test_only_the_entry_points_import_the_cli() -> None:
    """The CLI sits on top: it calls the stages, no stage calls it (the ``preview`` command
    is cli/preview.py; automation/cli.py stands alone, for ``python -m publisher.automation``)."""
    edges = graph()
    entry_points = {"publisher.__main__"}
    callers = sorted(
        name
        for name, targets in edges.items()
        if not name.startswith("publisher.cli") and name not in entry_points
        if any(t == "publisher.cli" or t.startswith("publisher.cli.") for t in targets)
    )
    assert callers == []
