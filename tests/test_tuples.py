"""publisher.tuples.NamedTuple against typing.NamedTuple, class by class.

Every module that takes ``NamedTuple`` from publisher.tuples is run a second time with
``typing``'s in its place; each class it made is then held to its twin: the same fields,
defaults, docstring, bases, class attributes and methods, and, on instances made with the
same values, the same repr, equality, hash, ``_replace``, ``_asdict``, ``_make`` and
pickling. And the class definitions typing refuses are refused here too.
"""

from __future__ import annotations

import pickle
import types
import typing
from pathlib import Path
from typing import Any

import pytest

import publisher
from conftest import module_twin
from publisher.tuples import NamedTuple

_ROOT = Path(publisher.__file__).parent
_IMPORT = "from publisher.tuples import NamedTuple"


def _modules() -> list[str]:
    names = []
    for path in sorted(_ROOT.rglob("*.py")):
        if path.name != "tuples.py" and _IMPORT in path.read_text(encoding="utf-8"):
            names.append(".".join(path.relative_to(_ROOT.parent).with_suffix("").parts))
    return names


MODULES = _modules()


def _twins(name: str) -> list[tuple[type, type]]:
    """(ours, its twin made by typing.NamedTuple) for each class the module ``name`` made."""
    module, twin = module_twin(name, _IMPORT, "from typing import NamedTuple")
    pairs = []
    for key, value in vars(module).items():
        made = isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields")
        if made and value.__module__ == name and key == value.__name__:
            pairs.append((value, getattr(twin, key)))
    return pairs


def test_the_modules_that_use_it_are_found() -> None:
    assert "publisher.incremental.table" in MODULES
    assert "publisher.feeds.plan" in MODULES


def _attributes(cls: type) -> dict[str, Any]:
    """The class's own attributes, methods by name (functions differ between the twins)."""
    found = {}
    for key, value in vars(cls).items():
        if key in ("__annotations__", "__new__", "__getnewargs__", "__match_args__"):
            continue
        if isinstance(value, (types.FunctionType, classmethod, staticmethod, property)) or (
            key.startswith("_") and key in ("_make", "_replace", "_asdict")
        ):
            found[key] = type(value).__name__
        else:
            found[key] = value
    return found


@pytest.mark.parametrize("name", MODULES)
def test_each_class_is_its_typing_twin(name: str) -> None:
    pairs = _twins(name)
    assert pairs, f"{name} makes no NamedTuple"
    for ours, twin in pairs:
        assert ours is not twin
        assert ours._fields == twin._fields
        assert ours._field_defaults == twin._field_defaults
        assert ours.__doc__ == twin.__doc__
        assert ours.__bases__ == twin.__bases__ == (tuple,)
        assert ours.__qualname__ == twin.__qualname__
        assert ours.__match_args__ == twin.__match_args__
        assert list(ours.__annotations__) == list(twin.__annotations__)
        assert _attributes(ours).keys() == _attributes(twin).keys()
        values = [("v", i) for i in range(len(ours._fields))]
        a, b = ours(*values), twin(*values)
        assert repr(a) == repr(b)
        assert a == b and hash(a) == hash(b)
        assert a._asdict() == b._asdict()
        assert a._replace(**{ours._fields[0]: 1}) == b._replace(**{twin._fields[0]: 1})
        assert ours._make(values) == twin._make(values)
        assert pickle.loads(pickle.dumps(a)) == a
        assert type(pickle.loads(pickle.dumps(a))) is ours
        if ours._field_defaults:
            required = len(ours._fields) - len(ours._field_defaults)
            assert ours(*values[:required]) == twin(*values[:required])


def test_it_refuses_what_typing_refuses() -> None:
    for maker in (NamedTuple, typing.NamedTuple):
        with pytest.raises(TypeError):
            types.new_class(
                "Late",
                (maker,),
                exec_body=lambda ns: ns.update(
                    {"__module__": __name__, "__annotations__": {"a": "int", "b": "int"}, "a": 1}
                ),
            )
        with pytest.raises(AttributeError):
            types.new_class(
                "Clash",
                (maker,),
                exec_body=lambda ns: ns.update(
                    {"__module__": __name__, "__annotations__": {"a": "int"}, "_make": 1}
                ),
            )


def test_annotations_are_not_evaluated() -> None:
    # typing wraps each string annotation in a ForwardRef (and compiles it): the cost.
    class Point(NamedTuple):
        x: Undefined  # type: ignore[name-defined]  # noqa: F821
        y: int = 2

    assert Point(1) == (1, 2)
    assert Point.__annotations__ == {"x": "Undefined", "y": "int"}
