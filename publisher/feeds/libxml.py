"""Which libxml2 the feeds are written with, named without importing ``lxml.etree``.

The feed cache's key names libxml2 (its HTML parser and serializer shape every body that
goes through lxml). ``lxml.etree.LIBXML_VERSION`` says which, but importing lxml.etree,
with the ``inspect`` it loads, was 12 to 16 ms of a one-post build that parses no HTML
(issue 12). lxml's wheels link libxml2 into ``etree``'s compiled module itself: there the
module's bytes are the libxml2, and the wheel's ``RECORD`` holds their SHA-256, the same
for every install of the same wheel (its stat is not: a cache restored beside a fresh
install must still match). So the key is that hash when

* ``etree`` is an ELF file that loads no shared library but the C runtime's (so no
  libxml2 of the system's can change under it), and
* ``RECORD`` lists it at the size the file has.

Anything else (a distribution's lxml linked to the system's libxml2, another platform's
module format, no ``RECORD``) imports lxml.etree for its version, as before.
"""

from __future__ import annotations

import os
import sys
from struct import Struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import BinaryIO

#: The shared libraries of the C runtime (glibc's and musl's): they hold no libxml2.
_RUNTIME = ("libc.", "libm.", "libpthread.", "librt.", "libdl.", "ld-linux", "ld-musl")
_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_STRSZ = 0, 1, 5, 10


def libxml2_key() -> str:
    """What names the libxml2 lxml runs with: ``record <sha256>`` of a wheel's
    self-contained ``etree`` module, else ``version <x.y.z>`` from lxml.etree itself."""
    found = _etree_file()
    record = None if found is None else _recorded_hash(*found)
    if found is not None and record is not None:
        needed = needed_libraries(found[0])
        if needed is not None and all(name.startswith(_RUNTIME) for name in needed):
            return f"record {record}"
    return imported_key()


def imported_key() -> str:
    """The general path: lxml.etree imported, its libxml2 version read."""
    from lxml import etree

    return "version " + ".".join(map(str, etree.LIBXML_VERSION))


def _etree_file() -> tuple[str, str] | None:
    """(where ``import lxml.etree`` finds its file, the lxml package's folder), asking
    the import system's finders as the import does; None when lxml is not there."""
    try:
        import lxml
    except ImportError:  # pragma: no cover - lxml is a dependency
        return None
    path = list(getattr(lxml, "__path__", ()))
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec("lxml.etree", path, None) if find_spec is not None else None
        if spec is not None:
            origin = getattr(spec, "origin", None)
            if isinstance(origin, str) and path:
                return origin, path[0]
            return None
    return None  # pragma: no cover - lxml without etree


def _recorded_hash(origin: str, package: str) -> str | None:
    """The ``sha256=`` the wheel's ``RECORD`` gives ``origin``, when it lists it with the
    size the file has; None otherwise."""
    import lxml

    version = getattr(lxml, "__version__", None)
    record = os.path.join(os.path.dirname(package), f"lxml-{version}.dist-info", "RECORD")
    wanted = f"{os.path.basename(package)}/{os.path.basename(origin)},"
    try:
        size = os.stat(origin).st_size
        with open(record, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(wanted):
                    _, digest, length = line.rstrip("\n").rsplit(",", 2)
                    ok = digest.startswith("sha256=") and length == str(size)
                    return digest[len("sha256=") :] if ok else None
    except (OSError, ValueError):
        return None
    return None


def needed_libraries(path: str) -> tuple[str, ...] | None:
    """The ``DT_NEEDED`` entries of the ELF file at ``path`` (the shared libraries the
    dynamic loader loads with it); None when it is not an ELF file this can read."""
    try:
        with open(path, "rb") as handle:
            return _needed(handle)
    except (OSError, ValueError, IndexError):
        return None


def _needed(handle: BinaryIO) -> tuple[str, ...] | None:
    head = handle.read(64)
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    wide = head[4] == 2
    order = "<" if head[5] == 1 else ">"
    # e_phoff, then e_phentsize and e_phnum, where each class keeps them.
    (phoff,) = Struct(order + ("Q" if wide else "I")).unpack_from(head, 32 if wide else 28)
    phentsize, phnum = Struct(order + "HH").unpack_from(head, 54 if wide else 42)
    # p_type, p_offset, p_vaddr, p_filesz of each program header.
    header = Struct(order + ("I4xQQ8xQ" if wide else "III4xI"))
    handle.seek(phoff)
    table = handle.read(phentsize * phnum)
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    for index in range(phnum):
        kind, offset, vaddr, size = header.unpack_from(table, index * phentsize)
        if kind == _PT_LOAD:
            loads.append((vaddr, offset, size))
        elif kind == _PT_DYNAMIC:
            dynamic = (offset, size)
    if dynamic is None:
        return ()  # statically linked: it loads nothing
    handle.seek(dynamic[0])
    entries = handle.read(dynamic[1])
    entry = Struct(order + ("qQ" if wide else "iI"))
    needed: list[int] = []
    strtab = strsz = -1
    for tag, value in entry.iter_unpack(entries[: len(entries) - len(entries) % entry.size]):
        if tag == _DT_NULL:
            break
        if tag == _DT_NEEDED:
            needed.append(value)
        elif tag == _DT_STRTAB:
            strtab = value
        elif tag == _DT_STRSZ:
            strsz = value
    at = next((o + strtab - v for v, o, s in loads if v <= strtab < v + s), None)
    if at is None or strsz < 0:
        return None
    handle.seek(at)
    strings = handle.read(strsz)
    return tuple(strings[i : strings.index(b"\0", i)].decode("latin-1") for i in needed)
