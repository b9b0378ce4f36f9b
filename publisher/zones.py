"""A time zone by its name, without importing zoneinfo for UTC (issue 12).

``zoneinfo`` loads ``sysconfig`` (and its build data) to find the zone files: about 3 ms
of a one-post build here. A site in UTC, the config's default, needs none of it: its
zone is ``datetime.UTC``, which gives the same offsets and the same text as
``ZoneInfo("UTC")`` (``%z``, ``%Z``, ``isoformat``). Any other name is a ``ZoneInfo``.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

#: The name whose zone is ``datetime.UTC`` (only this spelling: "Etc/UTC" and others
#: stay ZoneInfo's, as the config names them).
UTC_NAME = "UTC"


def zone(name: str) -> tzinfo:
    """The zone ``name`` names (an IANA name, as the config loader checked it)."""
    if name == UTC_NAME:
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
