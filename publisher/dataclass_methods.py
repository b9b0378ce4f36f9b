"""The methods publisher/dataclass.py gives a class: ``__init__`` compiled from the
source ``dataclasses`` writes, the others closures over the field names (no compiling);
and :class:`Field`, its record of one field.
"""

from __future__ import annotations

import _thread
import sys
from operator import attrgetter
from types import FunctionType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


class _Marker:
    __slots__ = ("shown",)

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __repr__(self) -> str:
        return self.shown


MISSING: Any = _Marker("MISSING")
HAS_DEFAULT_FACTORY = _Marker("<factory>")  # how a signature shows a default factory


class Field:
    """One field, as ``dataclasses.Field`` describes it (the attributes publisher reads)."""

    __slots__ = (
        *("compare", "default", "default_factory", "hash", "init", "kw_only", "name"),
        *("repr", "type"),
    )
    name: str
    type: Any
    default: Any
    default_factory: Any
    init: bool
    repr: bool
    hash: bool | None
    compare: bool
    kw_only: Any

    def __init__(self, **options: Any) -> None:
        self.name, self.type = "", None
        for name, value in options.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"Field(name={self.name!r},type={self.type!r},default={self.default!r})"


def init_fn(cls: Any, every: list[Field], std: list[Field], frozen: bool) -> Any:
    """The ``__init__`` ``dataclasses`` makes, from its source: compiled, as a closure
    taking ``**kwargs`` would be slower for the classes made once per post. The source of
    the classes publisher defines is compiled already, in dataclass_inits.py's .pyc (each
    ``compile`` was 0.25 ms: 9 ms of a one-post build); any other is compiled here."""
    seen_default = False
    for f in std:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    text, names = init_source(every, std, frozen)
    module = sys.modules.get(cls.__module__)
    namespace = vars(module) if module else {}
    made = _compiled().get(text)
    if made is not None:  # this very text, run in the class's module as exec would
        return FunctionType(made.__code__, namespace, "__create_fn__")(**names)
    # dont_inherit: annotations evaluated (to the field types), whatever this module's flags
    code = compile(text, "<string>", "exec", dont_inherit=True)
    scope: dict[str, Any] = {}
    exec(code, namespace, scope)
    return scope["__create_fn__"](**names)


def _compiled() -> dict[str, Any]:
    from publisher.dataclass_inits import MADE  # generated: tests/test_dataclass.py

    return MADE


def init_source(every: list[Field], std: list[Field], frozen: bool) -> tuple[str, dict[str, Any]]:
    """The source of ``__create_fn__``, which makes the ``__init__`` (as in dataclasses),
    and the values of its parameters: the field types and defaults the source names."""
    self_name = "__dataclass_self__" if "self" in {f.name for f in every} else "self"
    names: dict[str, Any] = {f"_type_{f.name}": f.type for f in every}
    names |= {"MISSING": MISSING, "_HAS_DEFAULT_FACTORY": HAS_DEFAULT_FACTORY}
    names |= {"__dataclass_builtins_object__": object, "_return_type": None}
    body = [line for f in every if (line := _field_init(f, frozen, names, self_name))]
    params = [_init_param(f) for f in std]
    kw = [_init_param(f) for f in every if f.init and f.kw_only]
    if kw:
        params += ["*", *kw]
    lines = "\n".join(f"  {line}" for line in body or ["pass"])
    text = f" def __init__({','.join([self_name, *params])})->_return_type:\n{lines}"
    return f"def __create_fn__({', '.join(names)}):\n{text}\n return __init__", names


def _field_init(f: Field, frozen: bool, names: dict[str, Any], self_name: str) -> str | None:
    default = f"_dflt_{f.name}"
    if f.default_factory is not MISSING:
        names[default] = f.default_factory
        value = f"{default}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}"
        if not f.init:
            value = f"{default}()"
    elif f.init:
        if f.default is not MISSING:
            names[default] = f.default
        value = f.name
    else:
        return None  # read from the class attribute that holds the default
    if frozen:
        return f"__dataclass_builtins_object__.__setattr__({self_name},{f.name!r},{value})"
    return f"{self_name}.{f.name}={value}"


def _init_param(f: Field) -> str:
    if f.default is not MISSING:
        return f"{f.name}:_type_{f.name}=_dflt_{f.name}"
    if f.default_factory is not MISSING:
        return f"{f.name}:_type_{f.name}=_HAS_DEFAULT_FACTORY"
    return f"{f.name}:_type_{f.name}"


def getter(names: list[str]) -> Any:
    """The tuple of these fields of an object, as ``(self.a, self.b,)`` makes it."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return lambda obj: ()


def repr_fn(names: tuple[str, ...]) -> Any:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = id(self), _thread.get_ident()
        if key in running:  # a field that holds this object: "...", as reprlib does
            return "..."
        running.add(key)
        try:
            shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in names])
        finally:
            running.discard(key)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def eq_fn(values: Any) -> Any:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def hash_fn(values: Any) -> Any:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def frozen_fns(cls: Any, names: tuple[str, ...]) -> tuple[Any, Any]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise _frozen_error(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__


def _frozen_error(message: str) -> Exception:
    import dataclasses  # the exception callers catch; raised on a bug, never in a build

    return dataclasses.FrozenInstanceError(message)
