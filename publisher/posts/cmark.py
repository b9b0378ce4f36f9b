"""cmark-gfm through ``cmarkgfm``, without its memory leak.

``cmarkgfm.markdown_to_html_with_extensions`` never frees the document tree that
``cmark_parser_finish`` hands to the caller, nor the HTML string ``cmark_render_html``
returns: about 26 KB of C memory lost per post of ~800 words, 380 MB for a serial read of
10,000 posts (issue 12), the same in total across the worker processes of a parallel one.
This module does the same calls and frees both, with ``cmark_node_free`` (exported by the
extension module but not wrapped by cmarkgfm) and the C library's ``free`` (cmark's default
allocator), both taken through cffi's backend (``publisher/cfunctions.py``: ``ctypes`` and
libffi are not loaded for them). Where either cannot be found, it falls back to the leaking
wrapper.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm import cmark

from publisher.cfunctions import c_function

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

_lib: Any = cmark._cmark.lib
_ffi: Any = cmark._cmark.ffi


def _releasers() -> tuple[Callable[[Any], None], Callable[[Any], None]] | None:
    """``cmark_node_free`` and ``free``, each taking a pointer cmarkgfm's calls return."""
    node_free = c_function(cmark._cmark.__file__, "cmark_node_free", ("c_void_p",), None)
    libc_free = c_function(None, "free", ("c_void_p",), None)
    if node_free is None or libc_free is None:
        return None
    return node_free, libc_free


_RELEASE = _releasers()


@functools.cache
def _extensions(names: tuple[str, ...]) -> list[Any]:
    """The registered syntax extensions called ``names`` (None for an unknown one), looked
    up once per process: they live as long as the C library."""
    cmark.core_extensions_ensure_registered()
    return [cmark.find_syntax_extension(name) for name in names]


class _Parsers(threading.local):
    """Each thread's parsers, by (options, extensions): cffi lets go of the GIL in the C
    calls, so two threads rendering at once must not share one."""

    def __init__(self) -> None:
        self.made: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


_PARSERS = _Parsers()


def _parser(options: int, extensions: tuple[str, ...]) -> tuple[Any, Any]:
    """A parser with ``extensions`` attached, and its list of them, made once per thread
    (issue 12: six calls through cffi per post). ``cmark_parser_finish`` resets the parser
    for the next document, keeping its options and extensions, so one parser renders
    every post (``tests/test_cmark_memory.py`` holds it to a new parser per document)."""
    made = _PARSERS.made.get((options, extensions))
    if made is not None:
        return made
    found = _extensions(extensions)
    if None in found:
        raise ValueError("unknown cmark-gfm extension")
    parser = cmark.parser_new(options=options)
    for extension in found:
        cmark.parser_attach_syntax_extension(parser, extension)
    made = _PARSERS.made[options, extensions] = (parser, cmark.parser_get_syntax_extensions(parser))
    return made


def to_html(markdown: str, options: int, extensions: Sequence[str]) -> str:
    """``cmarkgfm.markdown_to_html_with_extensions``, same output, nothing leaked."""
    if _RELEASE is None:
        html: str = cmarkgfm.markdown_to_html_with_extensions(
            markdown, options=options, extensions=list(extensions)
        )
        return html
    node_free, libc_free = _RELEASE
    parser, attached = _parser(options, tuple(extensions))
    text = markdown.encode("utf-8")  # a lone surrogate raises here, before any C call
    _lib.cmark_parser_feed(parser, text, len(text))
    root = _lib.cmark_parser_finish(parser)
    try:
        raw = _lib.cmark_render_html(root, options, attached)
        try:
            return str(_ffi.string(raw).decode("utf-8"))
        finally:
            libc_free(raw)
    finally:
        node_free(root)
