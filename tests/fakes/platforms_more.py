"""The platforms added by issue 17 as rows of the table-driven tests: each fake (in
``fakes.platforms``, one module per platform), the ``Platform`` row that runs it, its
``check_<kind>`` function holding the platform's documented limits (the fakes refuse what
they flag; the property tests assert they flag nothing), and the options a payload can be
built with offline.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .harness import Platform
from .platforms.apprise import APPRISE_TOKEN, AppriseReceiver, check_apprise, start_apprise
from .platforms.common import Check
from .platforms.googlechat import (
    GCHAT_KEY,
    GCHAT_TOKEN,
    GoogleChatFake,
    check_googlechat,
    start_googlechat,
)
from .platforms.linkedin import LINKEDIN_AUTHOR, LinkedInFake, check_linkedin, start_linkedin
from .platforms.mail import (
    SMTP_FROM,
    SMTP_PASSWORD,
    SMTP_TO,
    SMTP_USER,
    SMTPFake,
    check_email,
    make_certificate,
    start_email,
)
from .platforms.mattermost import (
    MM_CHANNEL,
    MM_TOKEN,
    MattermostFake,
    check_mattermost,
    start_mattermost,
    start_mattermost_webhook,
)
from .platforms.threads import (
    THREADS_TOKEN,
    ThreadsFake,
    check_threads,
    start_threads,
    threads_count,
)
from .platforms.x import X_OAUTH1, XFake, check_x, start_x, x_length
from .platforms.zulip import ZULIP_EMAIL, ZULIP_STREAM, ZulipFake, check_zulip, start_zulip

__all__ = [
    "APPRISE_TOKEN",
    "GCHAT_KEY",
    "GCHAT_TOKEN",
    "MM_TOKEN",
    "MORE_CHECKS",
    "MORE_OPTIONS",
    "MORE_PLATFORMS",
    "SMTP_FROM",
    "SMTP_PASSWORD",
    "SMTP_TO",
    "SMTP_USER",
    "THREADS_TOKEN",
    "X_OAUTH1",
    "ZULIP_STREAM",
    "AppriseReceiver",
    "GoogleChatFake",
    "LinkedInFake",
    "MattermostFake",
    "SMTPFake",
    "ThreadsFake",
    "XFake",
    "ZulipFake",
    "check_email",
    "check_googlechat",
    "make_certificate",
    "threads_count",
    "x_length",
]

MORE_PLATFORMS = [
    Platform("googlechat", True, start_googlechat),
    Platform("mattermost", False, start_mattermost),
    Platform("mattermost_webhook", False, start_mattermost_webhook),
    Platform("zulip", False, start_zulip),
    Platform("email", False, start_email),
    Platform("x", False, start_x),
    Platform("threads", True, start_threads),
    Platform("linkedin", False, start_linkedin),
    # Apprise is an optional extra: its row runs only where it is installed.
    *([Platform("apprise", False, start_apprise)] if importlib.util.find_spec("apprise") else []),
]

#: kind -> its documented limits, for the property tests.
MORE_CHECKS: dict[str, Check] = {
    "googlechat": check_googlechat,
    "mattermost": check_mattermost,
    "mattermost_webhook": check_mattermost,
    "zulip": check_zulip,
    "email": check_email,
    "x": check_x,
    "threads": check_threads,
    "linkedin": check_linkedin,
    "apprise": check_apprise,
}
#: kind -> the options a payload can be built with offline.
MORE_OPTIONS: dict[str, dict[str, Any]] = {
    "mattermost": {"instance": "https://chat.example.org", "channel_id": MM_CHANNEL},
    "zulip": {"instance": "https://chat.example.org", "email": ZULIP_EMAIL, "stream": "s"},
    "email": {"host": "127.0.0.1", "username": SMTP_USER, "from": SMTP_FROM, "to": SMTP_TO},
    "linkedin": {"author": LINKEDIN_AUTHOR},
}
