"""``dataclass``, ``field``, ``fields`` and ``replace`` as the standard library's, cheaper
to define: the classes every build loads are made here (issue 12).

On Python 3.11 ``dataclasses`` compiles each method of each class from source, one
``exec`` per method (six for a frozen class), and importing it loads ``inspect`` (``ast``,
``dis``, ``tokenize``): about 45 classes of a one-post build cost 25 to 30 ms. Here only
``__init__`` is made from the source ``dataclasses`` writes (same signature, same speed),
compiled already for publisher's classes (dataclass_inits.py, generated);
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` are closures
over the field names that return and raise what the generated ones do. What
``dataclasses``' own functions read (``__dataclass_fields__``, ``__dataclass_params__``)
is made on first read, by ``dataclasses`` (a test, a ``--json`` report). Options and
annotations publisher does not use (``order``, ``slots``, ``ClassVar``, ``InitVar``,
``__post_init__``, dataclass bases...) are a ``TypeError``: tests/test_dataclass.py holds
every class made here to its ``dataclasses`` twin. The type checker sees the stdlib's names.
"""

from __future__ import annotations

import abc
import re

from publisher.dataclass_methods import (
    MISSING,
    Field,
    eq_fn,
    frozen_fns,
    getter,
    hash_fn,
    init_fn,
    repr_fn,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

_SPEC = "__publisher_fields__"  # our Field records, by name (dataclasses keeps its own)
_PARAMS = "__publisher_params__"  # the decorator's arguments, for the dataclasses twin
# A leading name that makes an annotation no field, or a field this module does not make.
_UNSUPPORTED = re.compile(r"\s*(?:\w+\s*\.\s*)?(?:ClassVar|InitVar|KW_ONLY)\b")


def make_field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    kw_only: Any = MISSING,
) -> Any:
    """``dataclasses.field`` (without ``metadata``)."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(**locals())


def make_dataclass(cls: Any = None, /, **options: bool) -> Any:
    """``dataclasses.dataclass``, for the options publisher uses."""
    params = {"init": True, "repr": True, "eq": True, "frozen": False}
    params |= {"match_args": True, "kw_only": False}
    if options.keys() - params.keys():
        raise TypeError(f"{sorted(options)}: use dataclasses.dataclass")
    params |= options

    def wrap(cls: Any) -> Any:
        return _process(cls, params)

    return wrap if cls is None else wrap(cls)


def all_fields(class_or_instance: Any) -> tuple[Any, ...]:
    """``dataclasses.fields``: this module's records for its classes, else the module's."""
    spec = getattr(class_or_instance, _SPEC, None)
    if spec is None:
        import dataclasses

        return dataclasses.fields(class_or_instance)
    return tuple(spec.values())


def replaced(obj: Any, /, **changes: Any) -> Any:
    """``dataclasses.replace``."""
    spec = getattr(type(obj), _SPEC, None)
    if spec is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)
    for f in spec.values():
        if not f.init:
            if f.name in changes:
                raise ValueError(
                    f"field {f.name} is declared with init=False, it cannot be specified with "
                    "replace()"
                )
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def _process(cls: Any, params: dict[str, bool]) -> Any:
    for base in cls.__mro__[1:]:
        if "__dataclass_fields__" in base.__dict__:
            raise TypeError(f"{cls.__qualname__}: a dataclass base; use dataclasses.dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__}: __post_init__; use dataclasses.dataclass")
    spec = _fields(cls, params["kw_only"])
    setattr(cls, _SPEC, spec)
    setattr(cls, _PARAMS, params)
    for name in ("__dataclass_fields__", "__dataclass_params__"):
        setattr(cls, name, _Twin(cls, name))
    every = list(spec.values())
    std = [f for f in every if f.init and not f.kw_only]
    if params["init"] and "__init__" not in cls.__dict__:
        _set(cls, "__init__", init_fn(cls, every, std, params["frozen"]))
    if params["repr"]:
        _set(cls, "__repr__", repr_fn(tuple(f.name for f in every if f.repr)))
    if params["eq"]:
        _set(cls, "__eq__", eq_fn(getter([f.name for f in every if f.compare])))
    if params["frozen"]:
        names = tuple(spec)
        for method in frozen_fns(cls, names):
            if method.__name__ in cls.__dict__:
                raise TypeError(
                    f"Cannot overwrite attribute {method.__name__} in class {cls.__name__}"
                )
            _set(cls, method.__name__, method)
    _set_hash(cls, every, params)
    if not cls.__doc__:
        cls.__doc__ = cls.__name__ + _signature_text(cls, params)
    if params["match_args"] and "__match_args__" not in cls.__dict__:
        setattr(cls, "__match_args__", tuple(f.name for f in std))  # noqa: B010
    abc.update_abstractmethods(cls)
    return cls


def _fields(cls: Any, kw_only: bool) -> dict[str, Field]:
    # The class's own, as dataclasses reads them (inspect.get_annotations: inspect is the
    # import this module saves).
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    spec: dict[str, Field] = {}
    for name, kind in annotations.items():
        if not isinstance(kind, str) or _UNSUPPORTED.match(kind):
            raise TypeError(f"{cls.__qualname__}.{name}: use dataclasses.dataclass")
        value = getattr(cls, name, MISSING)
        f = value if isinstance(value, Field) else make_field(default=value)
        f.name, f.type = name, kind
        if f.kw_only is MISSING:
            f.kw_only = kw_only
        if f.default.__class__.__hash__ is None:
            raise ValueError(
                f"mutable default {type(f.default)} for field {name} is not allowed: "
                "use default_factory"
            )
        if isinstance(value, Field):
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        spec[name] = f
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    return spec


def _set(cls: Any, name: str, value: Any) -> None:
    if name in cls.__dict__:
        return  # a method the class defines itself is kept, as dataclasses does
    value.__qualname__ = f"{cls.__qualname__}.{value.__name__}"
    setattr(cls, name, value)


def _set_hash(cls: Any, every: list[Field], params: dict[str, bool]) -> None:
    """``dataclasses``' table for ``unsafe_hash=False``: a class with ``eq`` and no hash of
    its own gets one from its fields if frozen, else none."""
    own = cls.__dict__.get("__hash__", MISSING)
    explicit = not (own is MISSING or (own is None and "__eq__" in cls.__dict__))
    if not params["eq"] or explicit:
        return
    if params["frozen"]:
        hashed = [f.name for f in every if (f.compare if f.hash is None else f.hash)]
        method = hash_fn(getter(hashed))
        method.__qualname__ = f"{cls.__qualname__}.__hash__"
        cls.__hash__ = method
    else:
        cls.__hash__ = None


def _signature_text(cls: Any, params: dict[str, bool]) -> str:
    """``str(inspect.signature(cls))`` of a class whose ``__init__`` was made here (its
    parameters' annotations are strings); any other, through ``inspect``."""
    init = cls.__dict__.get("__init__")
    if not params["init"] or getattr(init, "__qualname__", "") != f"{cls.__qualname__}.__init__":
        import inspect

        try:
            return str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            return ""
    spec: dict[str, Field] = getattr(cls, _SPEC)
    shown: list[str] = []
    star = False
    for f in spec.values():
        if not f.init:
            continue
        if f.kw_only and not star:
            shown.append("*")
            star = True
        text = f"{f.name}: {f.type!r}"
        if f.default is not MISSING:
            text += f" = {f.default!r}"
        elif f.default_factory is not MISSING:
            text += " = <factory>"
        shown.append(text)
    # dataclasses drops " -> None" wherever the signature shows it (a default's repr too)
    return f"({', '.join(shown)})".replace(" -> None", "")


class _Twin:
    """``__dataclass_fields__`` or ``__dataclass_params__`` of ``cls``, made on first read:
    the values ``dataclasses`` gives the same class (built by it then), kept in the class
    in place of this descriptor."""

    def __init__(self, cls: Any, name: str) -> None:
        self.cls = cls
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        twin = dataclasses_twin(self.cls)
        for name in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(self.cls, name, twin.__dict__[name])
        return twin.__dict__[self.name]


def dataclasses_twin(cls: Any) -> Any:
    """A class of the same name, fields and options as ``cls``, made by ``dataclasses``."""
    import dataclasses

    spec: dict[str, Field] = cls.__dict__[_SPEC]
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    namespace["__annotations__"] = {name: f.type for name, f in spec.items()}
    for name, f in spec.items():
        namespace[name] = dataclasses.field(
            default=dataclasses.MISSING if f.default is MISSING else f.default,
            default_factory=(
                dataclasses.MISSING if f.default_factory is MISSING else f.default_factory
            ),
            init=f.init,
            repr=f.repr,
            hash=f.hash,
            compare=f.compare,
            kw_only=f.kw_only,
        )
    if cls.__doc__:
        namespace["__doc__"] = cls.__doc__
    return dataclasses.dataclass(**cls.__dict__[_PARAMS])(type(cls.__name__, (), namespace))


if TYPE_CHECKING:
    from dataclasses import dataclass, field, fields, replace
else:
    dataclass, field, fields, replace = make_dataclass, make_field, all_fields, replaced

__all__ = ["dataclass", "field", "fields", "replace"]
