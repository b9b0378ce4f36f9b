"""C functions called without ctypes: through cffi's own backend module.

A build calls a few C functions Python has no wrapper for (``renameat2`` and
``sync_file_range`` of the C library, ``cmark_node_free`` of cmark-gfm's extension).
``ctypes`` loads them, but importing it (and libffi with it) was about 2 ms of a one-edit
build at 1,000 posts (issue 12). ``_cffi_backend``, which cmarkgfm loads anyway, looks a
function up by name and calls it as cheaply, without cffi's C parser: the types are made
from their names, for the few types these functions take.

Arguments are Python ints, bytes for ``char *``, and for ``void *`` cffi pointers (what
cmarkgfm's functions return). Without the backend (it comes with cmarkgfm, so never in
practice) there is no function: each caller has a path without it.
"""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: The C types the functions here take and return, by the names ctypes gives them.
_TYPES = {
    "c_int": "int",
    "c_uint": "unsigned int",
    "c_int64": "int64_t",
    "c_ulong": "unsigned long",
    "c_void_p": "void *",
    "c_char_p": "char *",
    None: "void",
}


def c_function(
    library: str | None, name: str, argtypes: tuple[str, ...], restype: str | None = "c_int"
) -> Callable[..., Any] | None:
    """The function ``name`` of the shared library at ``library`` (None: the process's
    own symbols, the C library among them), taking ``argtypes`` and returning ``restype``
    (ctypes type names, None for void); None when it cannot be found."""
    try:
        import _cffi_backend as backend  # type: ignore[import-untyped]
    except ImportError:  # cmarkgfm is a cffi module: never missing in practice
        return None
    try:
        args = tuple(_type(backend, _TYPES[kind]) for kind in argtypes)
        kind = backend.new_function_type(args, _type(backend, _TYPES[restype]), False)
        if library not in _LIBRARIES:
            _LIBRARIES[library] = backend.load_library(library)
        found: Callable[..., Any] = _LIBRARIES[library].load_function(kind, name)
    except (OSError, AttributeError):
        return None
    return found


#: The libraries opened, kept open: a library object let go of closes its library, and
#: the functions taken from it with it.
_LIBRARIES: dict[str | None, Any] = {}


def _type(backend: Any, name: str) -> Any:
    if name.endswith(" *"):
        return backend.new_pointer_type(_type(backend, name[:-2]))
    if name == "void":
        return backend.new_void_type()
    return backend.new_primitive_type(name)
