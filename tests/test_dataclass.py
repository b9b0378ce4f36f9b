"""publisher.dataclass against the standard library's dataclasses, class by class.

Every module that takes ``dataclass`` from publisher.dataclass is run a second time with
``dataclasses`` in its place; each class it made is then held to its twin: the same fields
(and what ``dataclasses.fields`` says of them), signature, docstring, ``__match_args__``,
class attributes and methods present, and, on instances with the same values, the same
repr, equality, hash, frozen errors, ``replace``, ``asdict`` and pickling.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import publisher
from conftest import module_twin
from publisher import dataclass as ours
from publisher import dataclass_inits as inits
from publisher import dataclass_methods as methods
from publisher.dataclass import dataclass, field, fields, replace

_ROOT = Path(publisher.__file__).parent
_IMPORT = "from publisher.dataclass import"
_MARKERS = {"__publisher_fields__", "__publisher_params__"}
# copyreg caches a class's slot names in its dict the first time one of its instances is
# pickled, which an earlier test may have done to ours and not to the fresh twin.
_CACHED = {"__slotnames__"}


def _modules() -> list[str]:
    names = []
    for path in sorted(_ROOT.rglob("*.py")):
        if path.name != "dataclass.py" and _IMPORT in path.read_text(encoding="utf-8"):
            parts = path.relative_to(_ROOT.parent).with_suffix("").parts
            names.append(".".join(parts))
    return names


MODULES = _modules()


def _twins(name: str) -> list[tuple[type, type]]:
    """(ours, its twin) for each class the module ``name`` made here."""
    module, twin = module_twin(name, _IMPORT, "from dataclasses import")
    pairs = []
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and "__publisher_fields__" in vars(value)
            and value.__module__ == name
        ):
            found: Any = twin
            for part in value.__qualname__.split("."):
                found = getattr(found, part)
            pairs.append((value, found))
    return pairs


def _value(index: int, variant: int) -> tuple[str, int, int]:
    return ("v", index, variant)


def _made(cls: type, variant: int = 0, changed: str | None = None) -> Any:
    """An instance with every field set (one of them to another value), without __init__."""
    obj = object.__new__(cls)
    for i, f in enumerate(dataclasses.fields(cls)):
        object.__setattr__(obj, f.name, _value(i, variant + (f.name == changed)))
    return obj


def _unset(value: Any) -> Any:
    """A value to compare: MISSING of either module alike; a function (a default that is
    one, each run of the module making its own) by its name and code."""
    if value is ours.MISSING or value is dataclasses.MISSING:
        return "MISSING"
    if isinstance(value, types.FunctionType):
        return value.__qualname__, value.__code__.co_code
    if type(value).__eq__ is object.__eq__ and value is not None:
        return type(value).__qualname__, repr(value)  # a module's sentinel, made per run
    return value


def _same_fields(a: type, b: type) -> None:
    attributes = ("name", "type", "default", "init", "repr", "hash", "compare", "kw_only")
    for mine, theirs in (
        (fields(a), dataclasses.fields(b)),
        (dataclasses.fields(a), dataclasses.fields(b)),
    ):
        assert [f.name for f in mine] == [f.name for f in theirs]
        for x, y in zip(mine, theirs, strict=True):
            for attribute in attributes:
                left, right = getattr(x, attribute), getattr(y, attribute)
                assert _unset(left) == _unset(right), (x.name, attribute)
            assert _unset(x.default_factory) == _unset(y.default_factory), x.name


def _shown(text: object) -> str:
    """Text without object addresses (a default that is a function shows one)."""
    return re.sub(r" at 0x[0-9a-f]+", "", str(text))


def _same_class(a: type, b: type) -> None:
    _same_fields(a, b)
    assert repr(a.__dataclass_params__) == repr(b.__dataclass_params__)  # type: ignore[attr-defined]
    assert _shown(a.__doc__) == _shown((b.__doc__ or "").replace(b.__name__, a.__name__, 1))
    assert _shown(inspect.signature(a)) == _shown(inspect.signature(b))
    assert getattr(a, "__match_args__", None) == getattr(b, "__match_args__", None)
    assert set(vars(a)) - _MARKERS - _CACHED == set(vars(b)) - _CACHED
    assert (vars(a).get("__hash__", 0) is None) == (vars(b).get("__hash__", 0) is None)
    for f in dataclasses.fields(b):
        assert _unset(getattr(a, f.name, "absent")) == _unset(getattr(b, f.name, "absent"))
    for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        if method in vars(b) and vars(b)[method] is not None:
            assert vars(b)[method].__qualname__ == f"{b.__qualname__}.{method}"
            assert vars(a)[method].__qualname__ == f"{a.__qualname__}.{method}"


def _same_instances(a: type, b: type) -> None:
    x, y = _made(a), _made(b)
    assert repr(x) == repr(y)
    assert dataclasses.asdict(x) == dataclasses.asdict(y)
    assert (x == _made(a)) == (y == _made(b))
    assert a.__eq__(x, object()) is b.__eq__(y, object())  # NotImplemented, or object's
    if b.__hash__ is not None:
        assert hash(x) == hash(y)
    for f in dataclasses.fields(b):
        xx, yy = _made(a, changed=f.name), _made(b, changed=f.name)
        assert (x == xx) == (y == yy), f.name
        assert repr(xx) == repr(yy)
        if b.__hash__ is not None:
            assert hash(xx) == hash(yy)
    _same_setting(_made(a), _made(b))
    if "__init__" in vars(b) and vars(b)["__init__"].__qualname__ == f"{b.__qualname__}.__init__":
        _same_init(a, b, x, y)
    copied = pickle.loads(pickle.dumps(x))
    assert type(copied) is a and vars(copied) == vars(x)


def _same_setting(x: Any, y: Any) -> None:
    for name in (dataclasses.fields(y)[0].name if dataclasses.fields(y) else "a", "other"):
        outcomes = []
        for obj in (x, y):
            try:
                setattr(obj, name, 1)
                delattr(obj, name)
                outcomes.append(None)
            except dataclasses.FrozenInstanceError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]


def _same_init(a: type, b: type, x: Any, y: Any) -> None:
    given = {}
    for i, f in enumerate(dataclasses.fields(b)):
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.init and no_default:
            given[f.name] = _value(i, 3)
    made, twin = vars(a(**given)), vars(b(**given))
    assert made.keys() == twin.keys()
    for f in dataclasses.fields(b):  # a factory's value: of the same type (time_ns differs)
        if f.default_factory is not dataclasses.MISSING and f.name in made:
            assert type(made.pop(f.name)) is type(twin.pop(f.name))
    assert {k: _unset(v) for k, v in made.items()} == {k: _unset(v) for k, v in twin.items()}
    changes = {f.name: _value(9, 9) for f in dataclasses.fields(b) if f.init}
    assert vars(replace(x, **changes)) == vars(dataclasses.replace(y, **changes))
    assert vars(dataclasses.replace(x, **changes)) == vars(dataclasses.replace(y, **changes))
    for f in dataclasses.fields(b):
        if not f.init:
            with pytest.raises(ValueError) as mine:
                replace(x, **{f.name: 1})
            with pytest.raises(ValueError) as theirs:
                dataclasses.replace(y, **{f.name: 1})
            assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("name", MODULES)
def test_each_class_behaves_as_its_dataclasses_twin(name: str) -> None:
    pairs = _twins(name)
    source = Path(importlib.import_module(name).__file__ or "").read_text(encoding="utf-8")
    assert bool(pairs) == ("@dataclass" in source)
    for a, b in pairs:
        _same_class(a, b)
        _same_instances(a, b)


def test_the_classes_a_build_loads_are_covered() -> None:
    # The classes of the modules every build imports (issue 12's one-post build).
    assert {"publisher.config.model", "publisher.posts.model", "publisher.feeds.items"} <= set(
        MODULES
    )
    assert len(MODULES) >= 25


@dataclass(frozen=True)
class _Plain:
    a: int
    b: tuple[int, ...] = ()
    c: list[int] = field(default_factory=list, compare=False, repr=False)
    d: int = field(default=0, hash=False)


@dataclasses.dataclass(frozen=True)
class _Std:
    __qualname__ = "_Plain"  # as its twin shows itself in a repr

    a: int
    b: tuple[int, ...] = ()
    c: list[int] = dataclasses.field(default_factory=list, compare=False, repr=False)
    d: int = dataclasses.field(default=0, hash=False)


def test_a_small_class_in_full() -> None:
    _same_class(_Plain, _Std)
    x, y = _Plain(1, (2,)), _Std(1, (2,))
    _same_instances(_Plain, _Std)
    assert repr(x) == repr(y) == "_Plain(a=1, b=(2,), d=0)"
    assert x == _Plain(1, (2,), [5]) and x != _Plain(2, (2,))
    assert hash(x) == hash(y) == hash((1, (2,))) == hash(_Plain(1, (2,), d=5))
    assert {x: 1}[_Plain(1, (2,))] == 1
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
        x.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'b'"):
        del x.b  # type: ignore[misc]
    assert replace(x, a=3) == _Plain(3, (2,))
    assert dataclasses.astuple(x) == (1, (2,), [], 0)


def test_a_field_holding_its_own_object_repr() -> None:
    @dataclass
    class Node:
        """A node."""

        child: Any = None

    node = Node()
    node.child = node
    assert repr(node) == "test_a_field_holding_its_own_object_repr.<locals>.Node(child=...)"


def test_one_field_compares_as_a_tuple() -> None:
    # (nan,) == (nan,) holds for the same object; nan == nan does not: dataclasses
    # compares tuples, and so must we.
    @dataclass(frozen=True)
    class One:
        """One field."""

        x: float

    nan = float("nan")
    assert One(nan) == One(nan)
    assert hash(One(2.0)) == hash((2.0,))


@pytest.mark.parametrize(
    "body",
    [
        "x: ClassVar[int] = 1",
        "x: InitVar[int]",
        "_: KW_ONLY",
        "x: int\n    def __post_init__(self): pass",
    ],
)
def test_what_it_does_not_make_is_refused(body: str) -> None:
    source = f"@dataclass\nclass C:\n    {body}\n"
    with pytest.raises(TypeError, match=r"use dataclasses\.dataclass"):
        exec(compile("from __future__ import annotations\n" + source, "t", "exec"), vars(ours))


def test_options_it_does_not_make_are_refused() -> None:
    for option in ("order", "unsafe_hash", "slots"):
        with pytest.raises(TypeError):
            dataclass(**{option: True})  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="dataclass base"):

        @dataclass
        class Sub(_Std):
            """A subclass."""


def test_mistakes_dataclasses_refuses_are_refused() -> None:
    with pytest.raises(ValueError, match="mutable default"):

        @dataclass
        class Mutable:
            """Mutable default."""

            x: list[int] = []  # noqa: RUF012

    with pytest.raises(ValueError, match="both default and default_factory"):
        field(default=1, default_factory=list)
    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):

        @dataclass
        class Order:
            """Order."""

            x: int = 1
            y: int  # type: ignore[misc]


def test_stdlib_dataclasses_pass_through() -> None:
    assert [f.name for f in fields(_Std)] == ["a", "b", "c", "d"]
    assert replace(_Std(1), a=2) == _Std(2)


def test_a_build_s_classes_take_their_init_compiled_already() -> None:
    from publisher.config.model import Config
    from publisher.feeds.items import FeedItem

    for cls in (Config, FeedItem):
        assert cls.__init__.__code__.co_filename == str(INITS)
        assert cls.__init__.__globals__ is vars(sys.modules[cls.__module__])

    @dataclass
    class Fresh:
        """Not publisher's: compiled when defined, as dataclasses does."""

        x: int

    assert Fresh.__init__.__code__.co_filename == "<string>" and Fresh(1).x == 1


INITS = _ROOT / "dataclass_inits.py"
_INITS_HEAD = '''"""The ``__init__`` source of each class publisher/dataclass.py makes
(``dataclass_methods.init_source``), compiled with this module: a build runs these from
the .pyc instead of compiling each (issue 12: 9 ms of a one-post build). A class whose
source is not here still works: its source is compiled when the class is defined.

Generated by ``python tests/test_dataclass.py``, which tests/test_dataclass.py asks for
when too many classes are missing here. Do not edit.
"""
# over 400 lines: generated, a function per class
# mypy: ignore-errors
# ruff: noqa
# fmt: off

MADE = {}
'''


def _init_texts() -> dict[str, str]:
    """The ``__init__`` source of every class made by publisher.dataclass, by class."""
    texts = {}
    for name in MODULES:
        for value in vars(importlib.import_module(name)).values():
            params = vars(value).get("__publisher_params__") if isinstance(value, type) else None
            if params is None or value.__module__ != name or not params["init"]:
                continue
            every = list(vars(value)["__publisher_fields__"].values())
            std = [f for f in every if f.init and not f.kw_only]
            text, _ = methods.init_source(every, std, params["frozen"])
            texts[f"{name}.{value.__qualname__}"] = text
    return texts


def inits_module() -> str:
    """The text of publisher/dataclass_inits.py."""
    parts = [_INITS_HEAD]
    for text in sorted(set(_init_texts().values())):
        parts.append(f"\n{text}\nMADE[{text!r}] = __create_fn__\n")
    return "".join(parts)


def test_the_classes_inits_are_compiled_already() -> None:
    # Missing ones cost 0.25 ms each in every build (and work): a few, after a field is
    # added somewhere, may wait for the next regeneration.
    missing = [name for name, text in _init_texts().items() if text not in inits.MADE]
    assert len(missing) <= 3, f"{missing}: run python tests/test_dataclass.py"


def test_each_compiled_init_is_what_its_source_compiles_to() -> None:
    # The generated module holds each source as written: what a build runs from it is
    # what compiling that source gives, down to the bytecode.
    assert inits.MADE
    for text, made in inits.MADE.items():
        scope: dict[str, Any] = {}
        exec(compile(text, "<string>", "exec", dont_inherit=True), {}, scope)
        fresh = scope["__create_fn__"]
        names = fresh.__code__.co_varnames[: fresh.__code__.co_argcount]
        values = {name: (name, i) for i, name in enumerate(names)}
        a, b = fresh(**values), types.FunctionType(made.__code__, {}, "__create_fn__")(**values)
        for attribute in ("co_code", "co_consts", "co_names", "co_varnames", "co_freevars"):
            assert getattr(a.__code__, attribute) == getattr(b.__code__, attribute), attribute
        assert (a.__defaults__, a.__kwdefaults__) == (b.__defaults__, b.__kwdefaults__)
        assert a.__annotations__ == b.__annotations__
        closure = [c.cell_contents for c in a.__closure__ or ()]
        assert closure == [c.cell_contents for c in b.__closure__ or ()]


if __name__ == "__main__":
    INITS.write_text(inits_module(), encoding="utf-8")
    print(f"wrote {INITS}")
