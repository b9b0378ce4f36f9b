"""C functions through cffi's backend instead of ctypes (``publisher/cfunctions.py``, issue
12): each function publisher calls does what it did through ctypes, and a name, a library
or a backend that is not there is None, never an error."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from publisher import atomic, cfunctions

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux C library functions")

RENAMEAT2 = ("c_int", "c_char_p", "c_int", "c_char_p", "c_uint")


lookup = cfunctions.c_function


def test_renameat2_swaps_two_files(
    tmp_path: Path,
) -> None:
    call = lookup(None, "renameat2", RENAMEAT2)
    assert call is not None
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_bytes(b"1")
    two.write_bytes(b"2")
    assert call(-100, os.fsencode(one), -100, os.fsencode(two), 2) == 0  # RENAME_EXCHANGE
    assert (one.read_bytes(), two.read_bytes()) == (b"2", b"1")
    # A failed call returns -1 and changes nothing: no file at ``one``'s new name.
    assert call(-100, os.fsencode(tmp_path / "none"), -100, os.fsencode(two), 2) == -1
    assert two.read_bytes() == b"1"


def test_sync_file_range_takes_64_bit_offsets(
    tmp_path: Path,
) -> None:
    call = lookup(None, "sync_file_range", ("c_int", "c_int64", "c_int64", "c_uint"))
    assert call is not None
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    fd = os.open(path, os.O_RDWR)
    try:
        assert call(fd, 0, 1 << 40, 2) == 0  # past 4 GB: an int64_t, not an int
        assert call(-1, 0, 1, 2) == -1  # a bad descriptor: the C function's own answer
    finally:
        os.close(fd)


def test_a_void_function_of_another_library() -> None:
    from cmarkgfm import cmark  # type: ignore[import-untyped]

    node_free = lookup(cmark._cmark.__file__, "cmark_node_free", ("c_void_p",), None)
    free = lookup(None, "free", ("c_void_p",), None)
    assert node_free is not None and free is not None
    assert free(cmark._cmark.ffi.NULL) is None  # free(NULL) does nothing, returns nothing
    made = cmark._cmark.lib.cmark_parser_new(0)  # a node tree, freed as cmark.py frees it
    cmark._cmark.lib.cmark_parser_feed(made, b"*a*", 3)
    root = cmark._cmark.lib.cmark_parser_finish(made)
    cmark._cmark.lib.cmark_parser_free(made)
    assert node_free(root) is None


@pytest.mark.parametrize(
    ("library", "name"),
    [(None, "no_such_function_here"), ("/nonexistent/library.so", "free")],
)
def test_what_is_not_there_is_none(library: str | None, name: str) -> None:
    assert lookup(library, name, ("c_int",)) is None


def test_without_the_backend_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "_cffi_backend", None)  # its import raises
    assert lookup(None, "free", ("c_void_p",), None) is None


def test_the_atomic_exchange_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic, "_LIBC", {})
    seen: list[str] = []
    real = cfunctions.c_function

    def spy(library: str | None, name: str, argtypes: tuple[str, ...]) -> Any:
        seen.append(name)
        return real(library, name, argtypes)

    monkeypatch.setattr(cfunctions, "c_function", spy)
    target = tmp_path / "rss.xml"
    target.write_bytes(b"old")
    replaced: list[str] = []
    atomic.write_atomic_with(
        target, lambda fd: atomic.write_all(fd, b"new"), sync=False, replaced=replaced
    )
    assert seen == ["renameat2"]
    (left,) = replaced
    assert Path(left).read_bytes() == b"old" and target.read_bytes() == b"new"
    atomic.write_atomic_with(
        target, lambda fd: atomic.write_all(fd, b"newer"), sync=False, replaced=replaced
    )
    assert seen == ["renameat2"]  # looked up once a process
