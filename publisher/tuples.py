"""``NamedTuple`` as ``typing``'s, without evaluating its annotations (issue 12).

``class Row(typing.NamedTuple)`` checks each field's annotation as a type: under ``from
__future__ import annotations`` every one is a string, which ``typing`` wraps in a
``ForwardRef`` and compiles. The nine classes a one-edit build defines cost about 3 ms
so, of which ``collections.namedtuple`` is 0.5. Here a class is made as
``typing.NamedTupleMeta`` makes it (the same ``collections.namedtuple``, defaults,
methods and checks) with its annotations kept as written: nothing reads them at run
time. ``tests/test_tuples.py`` holds each class publisher defines to its ``typing`` twin.
The type checker sees ``typing.NamedTuple``.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # typing.TYPE_CHECKING: this module spares the import of typing too

if TYPE_CHECKING:
    from typing import Any

#: What a class body may not set (typing's own list), and what it sets that is not copied.
_PROHIBITED = frozenset(
    {
        "__new__",
        "__init__",
        "__slots__",
        "__getnewargs__",
        "_fields",
        "_field_defaults",
        "_make",
        "_replace",
        "_asdict",
        "_source",
    }
)
_SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})


class _Meta(type):
    def __new__(cls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:
        if bases != (_Base,):
            raise TypeError("a publisher.tuples.NamedTuple has no other base")
        annotations: dict[str, Any] = ns.get("__annotations__", {})
        defaults: list[str] = []
        for name in annotations:
            if name in ns:
                defaults.append(name)
            elif defaults:
                raise TypeError(f"Non-default namedtuple field {name} cannot follow default field")
        values = [ns[n] for n in defaults]
        make: Any = collections.namedtuple  # its arguments known only here, not to mypy
        made = make(typename, list(annotations), defaults=values, module=ns["__module__"])
        made.__annotations__ = made.__new__.__annotations__ = dict(annotations)
        made.__orig_bases__ = bases  # as the class statement sets it for typing's
        for key, value in ns.items():
            if key in _PROHIBITED:
                raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
            if key not in _SPECIAL and key not in made._fields:
                setattr(made, key, value)
        return made


_Base: Any = type.__new__(_Meta, "NamedTuple", (), {})

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    NamedTuple = _Base

__all__ = ["NamedTuple"]
