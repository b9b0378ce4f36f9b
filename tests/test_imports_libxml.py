"""The feed cache names libxml2 without importing lxml.etree (publisher/feeds/libxml.py):
by the SHA-256 a wheel's RECORD gives its self-contained ``etree`` module, else by the
version lxml.etree reports. Held here to the module's real bytes, to the general path, and
to a key that changes with either."""

from __future__ import annotations

import base64
import hashlib
import importlib.machinery
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from struct import pack

import pytest

from publisher.feeds import cache, libxml


def _elf(needed: list[str], *, wide: bool = True, order: str = "<") -> bytes:
    """A minimal shared object: one PT_LOAD mapping the file at 0x1000, one PT_DYNAMIC
    naming ``needed`` through a string table."""
    strings = b"\0" + b"".join(name.encode() + b"\0" for name in needed)
    offsets = [1 + sum(len(n) + 1 for n in needed[:i]) for i in range(len(needed))]
    strtab_at, dynamic_at, size = 0x200, 0x300, 0x400
    dyn = [(1, o) for o in offsets] + [(5, 0x1000 + strtab_at), (10, len(strings)), (0, 0)]
    entry = order + ("qQ" if wide else "iI")
    dynamic = b"".join(pack(entry, tag, value) for tag, value in dyn)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if order == "<" else 2, 1]) + bytes(9)
    if wide:
        head = ident + pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 2, 64, 0, 0)
        phdr = order + "IIQQQQQQ"
        loads = pack(phdr, 1, 5, 0, 0x1000, 0x1000, size, size, 0x1000)
        dyns = pack(phdr, 2, 6, dynamic_at, 0x1000 + dynamic_at, 0, len(dynamic), 0, 8)
    else:
        head = ident + pack(order + "HHIIIIIHHHHHH", 3, 3, 1, 0, 52, 0, 0, 52, 32, 2, 40, 0, 0)
        phdr = order + "IIIIIIII"
        loads = pack(phdr, 1, 0, 0x1000, 0x1000, size, size, 5, 0x1000)
        dyns = pack(phdr, 2, dynamic_at, 0x1000 + dynamic_at, 0, len(dynamic), 0, 6, 4)
    blob = bytearray(size)
    blob[: len(head) + len(loads) + len(dyns)] = head + loads + dyns
    blob[strtab_at : strtab_at + len(strings)] = strings
    blob[dynamic_at : dynamic_at + len(dynamic)] = dynamic
    return bytes(blob)


@pytest.mark.parametrize(("wide", "order"), [(True, "<"), (False, "<"), (True, ">"), (False, ">")])
def test_needed_libraries_reads_each_elf_class_and_byte_order(
    tmp_path: Path, wide: bool, order: str
) -> None:
    path = tmp_path / "etree.so"
    path.write_bytes(_elf(["libxml2.so.2", "libc.so.6"], wide=wide, order=order))
    assert libxml.needed_libraries(str(path)) == ("libxml2.so.2", "libc.so.6")
    path.write_bytes(_elf([], wide=wide, order=order))
    assert libxml.needed_libraries(str(path)) == ()


def test_what_is_not_an_elf_file_names_no_libraries(tmp_path: Path) -> None:
    path = tmp_path / "etree.pyd"
    path.write_bytes(b"MZ" + bytes(200))
    assert libxml.needed_libraries(str(path)) is None
    path.write_bytes(_elf(["libc.so.6"])[:300])  # cut before its dynamic section
    assert libxml.needed_libraries(str(path)) is None
    assert libxml.needed_libraries(str(tmp_path / "missing.so")) is None


def test_the_real_etree_module_is_read() -> None:
    from lxml import etree

    needed = libxml.needed_libraries(str(etree.__file__))
    if sys.platform == "linux":
        assert needed is not None
        assert any(name.startswith("libc.") for name in needed)


def test_the_key_is_the_real_bytes_hash_or_the_imported_version() -> None:
    from lxml import etree

    key = libxml.libxml2_key()
    assert libxml.imported_key() == "version " + ".".join(map(str, etree.LIBXML_VERSION))
    if key.startswith("record "):
        digest = hashlib.sha256(Path(str(etree.__file__)).read_bytes()).digest()
        assert key == "record " + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        assert key == libxml.imported_key()


_PROBE = textwrap.dedent(
    """
    import json, sys
    from publisher.feeds import libxml
    libxml.imported_key = lambda: "imported"
    print(json.dumps([libxml.libxml2_key(), "lxml.etree" in sys.modules]))
    """
)


def _key_with(tmp_path: Path, needed: list[str], record: str | None) -> tuple[str, bool]:
    """libxml2_key() where ``import lxml`` finds a package in ``tmp_path`` whose etree
    module loads ``needed`` and whose RECORD line for it is ``record``."""
    package = tmp_path / "lxml"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text('__version__ = "9.9"\n', encoding="utf-8")
    module = package / f"etree{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    module.write_bytes(_elf(needed))
    info = tmp_path / "lxml-9.9.dist-info"
    info.mkdir(exist_ok=True)
    lines = [f"lxml/__init__.py,sha256=x,{(package / '__init__.py').stat().st_size}"]
    if record is not None:
        lines.append(f"lxml/{module.name},{record}")
    (info / "RECORD").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
            "COVERAGE_PROCESS_CONFIG": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key, imported = json.loads(done.stdout.strip().splitlines()[-1])
    return key, imported


def test_a_wheel_etree_is_keyed_by_its_record_without_importing_it(tmp_path: Path) -> None:
    size = len(_elf(["libm.so.6", "libc.so.6"]))
    assert _key_with(tmp_path, ["libm.so.6", "libc.so.6"], f"sha256=AAA,{size}") == (
        "record AAA",
        False,
    )
    # Another build of the module: another key.
    assert _key_with(tmp_path, ["libc.so.6"], f"sha256=BBB,{size}")[0] == "record BBB"


def test_anything_else_asks_lxml_etree(tmp_path: Path) -> None:
    size = len(_elf(["libc.so.6"]))
    # Linked to the system's libxml2, which can change under the same module file.
    assert _key_with(tmp_path, ["libxml2.so.2", "libc.so.6"], f"sha256=AAA,{size}")[0] == (
        "imported"
    )
    # A file that is not the one RECORD lists (rebuilt in place), or no RECORD line.
    assert _key_with(tmp_path, ["libc.so.6"], f"sha256=AAA,{size + 1}")[0] == "imported"
    assert _key_with(tmp_path, ["libc.so.6"], "md5=AAA," + str(size))[0] == "imported"
    assert _key_with(tmp_path, ["libc.so.6"], None)[0] == "imported"


def test_the_feed_cache_key_changes_with_libxml2() -> None:
    assert cache._code_hash(libxml.libxml2_key()) == cache._CODE
    assert cache._code_hash("record AAA") != cache._code_hash("record BBB")
    assert cache._code_hash("record AAA") != cache._code_hash("version 2.14.6")
