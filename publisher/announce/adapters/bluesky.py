"""Bluesky (AT Protocol): an ``app.bsky.feed.post`` record with link facets and a card.

* Log in with an app password (``com.atproto.server.createSession``) only when needed:
  the access and refresh tokens are kept in the state folder (mode 0600) and refreshed
  with ``com.atproto.server.refreshSession``, so cron runs do not hit the login limit
  (``bluesky_session.py``).
* Links in the text get ``app.bsky.richtext.facet#link`` facets whose ``byteStart`` /
  ``byteEnd`` are UTF-8 byte offsets (inclusive start, exclusive end); without them a
  URL is not clickable.
* The card is an ``app.bsky.embed.external`` with the thumbnail uploaded through
  ``com.atproto.repo.uploadBlob`` (at most 1,000,000 bytes; a larger one is left out).
* Text: at most 300 graphemes and 3000 bytes; the card's title 300 graphemes (3000
  bytes) and description 1000 graphemes (3000 bytes), our own budget (the lexicon sets
  none, the app shows about that much).
* Idempotency: the record key (``rkey``) is a TID made of the ledger's first attempt time
  and a 10-bit clock id hashed from target, post id and idempotency key, so a retry
  writes the same record key. The ledger keeps whole seconds, so two posts first tried
  in the same second (in practice: two posts of one run) collide 1 time in 1,024.
  "Already exists" is never taken on trust: the record is read back (``getRecord``) and
  counts as this post's only when it links this post's URL. Another post's record is a
  collision: the next key of the same fixed sequence is tried (so a later run, probing
  the same sequence, finds what this one wrote). A key this announcer wrote in this run
  is known without asking: one run writes each post's record once.
* Read-back: probe that sequence with ``getRecord``; when it is inconclusive, page
  ``listRecords`` (newest first) back to the first attempt and match the URL.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from publisher.announce.adapters.bluesky_session import XrpcSession
from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    TextLimit,
)
from publisher.announce.http import (
    CLOCK_SKEW,
    answer_time,
    call,
    card_bytes,
    json_object,
    text_field,
)
from publisher.announce.linkpreview import LinkPreview, Theme
from publisher.announce.text import URL_RE

BLOB_LIMIT = 1_000_000
COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TEXT = TextLimit(300, "graphemes", max_bytes=3000)
CARD_TITLE = TextLimit(300, "graphemes", max_bytes=3000)
CARD_DESCRIPTION = TextLimit(1000, "graphemes", max_bytes=3000)
#: Record keys tried for one post before giving up (each a 1-in-1,024 collision).
PROBES = 8
#: Pages of ``listRecords`` (100 records each) read back before saying "cannot tell".
LIST_PAGES = 10


class _Absent:
    """getRecord's answer: no record under that key."""


ABSENT = _Absent()


def tid(microseconds: int, clock_id: int) -> str:
    """A record key in the TID format: 53 bits of microseconds, 10 bits of clock id, base32-sortable."""
    value = ((microseconds & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every URL in ``text``, with UTF-8 byte offsets."""
    facets = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(url.encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


class BlueskyAnnouncer(XrpcSession):
    kind = "bluesky"
    limit = TEXT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "card title": CARD_TITLE,
        "card description": CARD_DESCRIPTION,
    }
    idempotent = True
    # How the platform shows a shared link (the preview page draws it from this).
    # Bluesky: ``app.bsky.embed.external`` thumbnails up to 1,000,000 bytes (the lexicon); the app
    # crops to about 1.91:1 and clamps the title to two lines and the description to two
    # (observed).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="bluesky",
        name="Bluesky",
        title_lines=2,
        description_lines=2,
        ratio=1.91,
        ratio_label="about 1.91:1",
        max_bytes=1_000_000,
        formats=frozenset({"image/jpeg", "image/png", "image/webp"}),
        note="crop and line clamps observed in the app; the 1,000,000-byte limit is the lexicon's",
        theme=Theme(text="#0b0f14", muted="#42576c", radius=12),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "handle": REQUIRED,
        "app_password": SECRET,
        "service": "https://bsky.social",
        "language": None,
        "image": True,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The records this announcer wrote (record key -> record), each answered 200.
        self._written: dict[str, dict[str, Any]] = {}

    # -- the post ------------------------------------------------------------

    def rkey(self, announcement: Announcement, probe: int = 0) -> str:
        """The ``probe``-th record key of this post on this target: the first attempt's
        microseconds and a clock id that differs per target, post, key and probe."""
        micros = int(announcement.created_at.astimezone(UTC).timestamp() * 1_000_000)
        seed = f"{self.name}\n{announcement.post.id}\n{announcement.key}\n{probe}"
        clock_id = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:2], "big")
        return tid(micros, clock_id & 0x3FF)

    def legacy_rkey(self, announcement: Announcement) -> str:
        """The key earlier versions used (a CRC of the idempotency key as clock id): a row
        they left ``sending`` may have its record there."""
        micros = int(announcement.created_at.astimezone(UTC).timestamp() * 1_000_000)
        return tid(micros, zlib.crc32(announcement.key.encode()) & 0x3FF)

    def record(self, announcement: Announcement, thumb: Any = None) -> dict[str, Any]:
        text = TEXT.clip(announcement.text)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": announcement.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        external: dict[str, Any] = {
            "uri": announcement.url,
            "title": CARD_TITLE.clip(announcement.title),
            "description": CARD_DESCRIPTION.clip(announcement.summary),
        }
        if thumb is not None:
            external["thumb"] = thumb
        record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        language = self.config.get("language") or announcement.language
        if language:
            record["langs"] = [language]
        return record

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        thumb = (
            "<uploaded card blob>"
            if announcement.card is not None and self.config.get("image", True)
            else None
        )
        return {
            "repo": f"<did of {self.config.get('handle')}>",
            "collection": COLLECTION,
            "rkey": self.rkey(announcement),
            "record": self.record(announcement, thumb),
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        post_id = announcement.post.id
        if announcement.attempt > 1:
            # A later attempt: an earlier one may have been written before its answer was lost.
            found = self._find_own(session, announcement)
            if isinstance(found, Receipt):
                return found
        thumb = self._thumb(announcement, session)
        record = self.record(announcement, thumb)
        for probe in range(PROBES):
            rkey = self.rkey(announcement, probe)
            # What this announcer wrote there itself, else (past the first key) the platform.
            seen: dict[str, Any] | _Absent | None = self._written.get(rkey)
            if seen is None and probe > 0:
                seen = self._get(session, rkey)
            if isinstance(seen, dict):
                if self._is_own(seen, announcement):
                    return self._receipt(post_id, rkey, duplicate=True)
                continue  # another post's record: a collision, try the next key
            try:
                response = self._authed(
                    session,
                    "POST",
                    "com.atproto.repo.createRecord",
                    what="Bluesky post",
                    json={
                        "repo": self._current(session)["did"],
                        "collection": COLLECTION,
                        "rkey": rkey,
                        "record": record,
                    },
                    ok=(200,),
                )
            except DeliveryError as exc:
                if exc.outcome != "refused" or exc.status != 400:
                    raise
                seen = self._get(session, rkey)
                if seen is None:  # the key may hold this very post: a doubt, not a refusal
                    why = (
                        f"post {post_id}: record key {rkey} was refused and could not be read "
                        "back; it may hold this post"
                    )
                    raise DeliveryError(self.name, 400, why, outcome="unknown") from None
                if not isinstance(seen, dict):
                    raise  # refused for another reason: the key is free
                if self._is_own(seen, announcement):
                    return self._receipt(post_id, rkey, duplicate=True)
                continue
            # 200 means the record is written under the key we chose; an odd body only
            # costs us the uri, which the key rebuilds.
            self._written[rkey] = record
            return self._receipt(
                post_id, rkey, uri=text_field(json_object(response), "uri"), status=200
            )
        raise DeliveryError(
            self.name,
            400,
            f"post {post_id}: {PROBES} record keys in a row are taken by other posts; "
            "run again (the keys follow the first attempt time)",
            outcome="refused",
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's record on the account, looked up by its keys, then by listing."""
        found = self._find_own(session, announcement)
        if isinstance(found, Receipt):
            return found
        return self._list_own(session, announcement, since)

    # -- helpers -------------------------------------------------------------

    def _thumb(self, announcement: Announcement, session: requests.Session) -> Any:
        card = announcement.card
        if card is None or not self.config.get("image", True):
            return None
        data = card_bytes(card.path, card.url, limit=BLOB_LIMIT)
        if data is None:
            return None
        uploaded = self._authed(
            session,
            "POST",
            "com.atproto.repo.uploadBlob",
            what="Bluesky thumbnail upload",
            data=data,
            headers={"Content-Type": card.mime},
            ok=(200,),
        )
        blob = json_object(uploaded).get("blob")
        # Without a well-formed blob the post goes out without its thumbnail.
        return blob if isinstance(blob, dict) and blob.get("ref") else None

    def _receipt(
        self,
        post_id: str,
        rkey: str,
        *,
        uri: str | None = None,
        status: int = 200,
        duplicate: bool = False,
    ) -> Receipt:
        did = (self._session or {}).get("did")
        return Receipt(
            target=self.name,
            post_id=post_id,
            remote_id=uri or (f"at://{did}/{COLLECTION}/{rkey}" if did else None),
            remote_url=self._web_url(rkey),
            status=status,
            duplicate=duplicate,
        )

    def _web_url(self, rkey: str) -> str:
        handle = (self._session or {}).get("handle") or str(self.config.get("handle"))
        return f"https://bsky.app/profile/{quote(handle)}/post/{rkey}"

    @staticmethod
    def _is_own(record: dict[str, Any], announcement: Announcement) -> bool:
        """Does this record announce this post (its card or a link in its text is the URL)?"""
        url = announcement.url
        embed = record.get("embed")
        if isinstance(embed, dict) and text_field(embed, "external", "uri") == url:
            return True
        for facet in record.get("facets") or []:
            for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
                if isinstance(feature, dict) and feature.get("uri") == url:
                    return True
        text = record.get("text")
        return isinstance(text, str) and url in URL_RE.findall(text)

    def _get(self, http: requests.Session, rkey: str) -> dict[str, Any] | _Absent | None:
        """The record under ``rkey``; ABSENT when there is none; None when we cannot tell."""
        did = self._current(http)["did"]
        try:
            response = http.get(
                self._xrpc("com.atproto.repo.getRecord"),
                params={"repo": did, "collection": COLLECTION, "rkey": rkey},
                timeout=self.timeout,
            )
        except requests.RequestException:
            return None
        body = json_object(response)
        if response.status_code == 400 and body.get("error") == "RecordNotFound":
            return ABSENT
        value = body.get("value")
        return value if response.status_code == 200 and isinstance(value, dict) else None

    def _find_own(self, http: requests.Session, announcement: Announcement) -> Receipt | None:
        """This post's record under one of its keys, if one answers so; None otherwise."""
        post_id = announcement.post.id
        legacy = self.legacy_rkey(announcement)
        for rkey in [legacy] + [self.rkey(announcement, n) for n in range(PROBES)]:
            seen = self._get(http, rkey)
            if isinstance(seen, dict) and self._is_own(seen, announcement):
                return self._receipt(post_id, rkey, duplicate=True)
            if isinstance(seen, _Absent) and rkey != legacy:
                return None  # the sequence stops at its first free key
        return None

    def _list_own(
        self, http: requests.Session, announcement: Announcement, since: datetime
    ) -> Receipt | None:
        did = self._current(http)["did"]
        cursor: str | None = None
        floor = since.astimezone(UTC) - CLOCK_SKEW
        for _ in range(LIST_PAGES):
            params = {"repo": did, "collection": COLLECTION, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            try:
                response = call(
                    http,
                    self.name,
                    "GET",
                    self._xrpc("com.atproto.repo.listRecords"),
                    what="Bluesky listRecords",
                    params=params,
                    timeout=self.timeout,
                    ok=(200,),
                )
            except DeliveryError as exc:
                raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
            body = json_object(response)
            records = body.get("records")
            if not isinstance(records, list):
                raise ReadBackUnavailable(
                    self.name, 200, "listRecords answered without a records list"
                )
            older = False
            for item in records:
                value = item.get("value") if isinstance(item, dict) else None
                if not isinstance(value, dict):
                    continue
                if self._is_own(value, announcement):
                    rkey = str(item.get("uri", "")).rsplit("/", 1)[-1]
                    return self._receipt(
                        announcement.post.id, rkey, uri=text_field(item, "uri"), duplicate=True
                    )
                created = answer_time(value.get("createdAt"))
                older = older or (created is not None and created < floor)
            cursor = text_field(body, "cursor")
            if older or not cursor or not records:
                return None
        raise ReadBackUnavailable(
            self.name, None, f"more than {LIST_PAGES * 100} posts since {since.isoformat()}"
        )
