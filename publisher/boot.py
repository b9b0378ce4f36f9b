"""Which boot of the machine this is: whether bytes a build left unsynced are still there.

A spliced output file (a 70 MB feed at 10,000 posts, ``publisher/spliced.py``) is renamed
into place without an ``fsync`` where the kernel says which boot this is: waiting for the
disk was most of a one-post build's wait (issue 12). A killed process never loses the page
cache, so within one boot such a file holds what was written. Across a power loss or a
kernel crash it may not: XFS, or ext4 mounted ``data=writeback``, can bring back a file
whose size, mtime, inode and ctime are the ones written but whose blocks are zeros. So
every later trust in such a file is tied to the boot that wrote it: its layout
(``splicing.py``) is kept with this boot's id and not spliced from in another, and the
no-op check's digest of the outputs (``snapshot.outputs_digest``) holds it, so the first
build after a reboot is never a no-op; it writes those files whole, comparing with the
bytes on disk (synced). Where no boot id can be read, files are synced as before.

A leaf module (the standard library's ``os`` only): the fast path imports it.
"""

from __future__ import annotations

import os

#: Where Linux says which boot this is: a random UUID drawn at each boot. A module-level
#: path, so that tests can stand a file in for a reboot.
BOOT_ID = "/proc/sys/kernel/random/boot_id"


def current() -> str | None:
    """This boot's id; None where the system does not tell (not Linux): then every output
    file is synced before its rename, and no trust depends on the boot."""
    try:
        fd = os.open(BOOT_ID, os.O_RDONLY)
    except OSError:
        return None
    try:
        text = os.read(fd, 128).decode("ascii", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    # A mark must fit a layout's stamp ("size:mtime:inode:ctime:boot") and a digest line.
    if not text or any(c in text for c in ":\0\n") or len(text) > 64:
        return None
    return text


def trusted(mark: str | None) -> bool:
    """Whether a file left unsynced in the boot ``mark`` still holds what was written: in
    this boot, yes; in another (a reboot since, maybe a power loss) or when this boot is
    unknown, no. ``mark`` None: the file was synced, so any boot."""
    return mark is None or mark == current()
