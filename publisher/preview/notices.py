"""The warnings of one post's section, from every stage, errors first.

Each stage's notices come from one function here, reading the facts the section shows
(views.py) and the problems the stages reported: to warn about something new, add it to
the function of its stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from publisher.announce import Decision
from publisher.errors import Problem
from publisher.posts.model import Post
from publisher.preview.unfurl import Unfurl
from publisher.preview.views import AnnouncementView, CardView, Notice, Severity, Status

#: Below this width a source image is too small for a large link preview anywhere.
MIN_IMAGE_WIDTH = 600


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What one post's notices are drawn from."""

    post: Post
    status: Status
    #: (stage, problem) for each problem a stage reported in the post's file.
    problems: Sequence[tuple[str, Problem]]
    card: CardView | None
    #: The width of the post's own image (None: no image, or not readable).
    source_width: int | None
    unfurls: Sequence[Unfurl]
    announcements: Sequence[AnnouncementView]
    #: (post id, target) -> what an announce run would decide now.
    decisions: Mapping[tuple[str, str], Decision]
    cards_enabled: bool


def notices(facts: Facts) -> tuple[Notice, ...]:
    """Every warning for the post from every stage, errors first."""
    found = [
        *_post_notices(facts),
        *_card_notices(facts),
        *_unfurl_notices(facts.unfurls),
        *_announce_notices(facts),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return tuple(sorted(dict.fromkeys(found), key=lambda n: order[n.severity]))


def _with_field(problem: Problem) -> str:
    """``field message``, unless the message already starts with its field (as str(Problem))."""
    field = problem.field or ""
    if not field or problem.message.startswith(f"{field} "):
        return problem.message
    return f"{field} {problem.message}"


def _post_notices(facts: Facts) -> Iterator[Notice]:
    if facts.status == "draft":
        yield Notice(stage="post", severity="info", message="a draft: never published")
    elif facts.status == "scheduled":
        yield Notice(
            stage="post",
            severity="info",
            message=f"future-dated: goes out on the first run at or after {facts.post.date.isoformat()}",
            fix="publish --now ISO previews a later run",
        )
    for stage, problem in facts.problems:
        severity: Severity = "error" if problem.severity == "error" else "warning"
        yield Notice(stage=stage, severity=severity, message=_with_field(problem), fix=problem.fix)
    if not facts.post.summary:
        yield Notice(
            stage="post",
            severity="warning",
            message="no summary: og:description falls back to the site description",
            fix="add ogSummary (or description) to the frontmatter",
        )


def _card_notices(facts: Facts) -> Iterator[Notice]:
    card = facts.card
    if facts.cards_enabled and card is None:
        yield Notice(
            stage="card",
            severity="warning",
            message="no card image: links unfurl without a picture",
            fix="see the card errors above",
        )
    if card is not None and not card.picture.alt.strip():
        yield Notice(
            stage="card",
            severity="warning",
            message="the card has no alt text (og:image:alt is empty)",
            fix="set cards.alt, e.g. '{title}'",
        )
    if card is not None and card.picture.bytes > card.budget:
        yield Notice(
            stage="card",
            severity="warning",
            message=f"the card is {card.picture.bytes:,} bytes, over the {card.budget:,}-byte budget",
            fix="lower cards.quality or use cards.format: jpeg",
        )
    width = facts.source_width
    if width is not None and width < MIN_IMAGE_WIDTH:
        yield Notice(
            stage="card",
            severity="warning",
            message=f"the post's image is {width} px wide, smaller than {MIN_IMAGE_WIDTH} px: the card shows it small",
            fix="use an image at least 1200 px wide",
        )


def _unfurl_notices(shared: Sequence[Unfurl]) -> Iterator[Notice]:
    for shown in shared:
        name = shown.platform.name
        for note in shown.image_notes:
            if not note.startswith("cropped"):
                yield Notice(stage="unfurl", severity="warning", message=f"{name}: {note}")
        description_cut = shown.platform.description_cut
        if shown.description_cut:
            cut = description_cut.describe() if description_cut else ""
            yield Notice(stage="unfurl", severity="info", message=f"{name}: summary cut at {cut}")
        title_cut = shown.platform.title_cut
        if shown.title_cut:
            cut = title_cut.describe() if title_cut else ""
            yield Notice(stage="unfurl", severity="info", message=f"{name}: title cut at {cut}")


def _announce_notices(facts: Facts) -> Iterator[Notice]:
    for view in facts.announcements:
        if view.error:
            yield Notice(
                stage="announce",
                severity="error",
                message=f"{view.target}: {view.error}",
                fix="shorten the template or the title",
            )
        elif view.shortened:
            yield Notice(
                stage="announce",
                severity="warning",
                message=f"{view.target}: summary cut to fit {view.limit} {view.unit} ({view.length} used)",
                fix="a shorter ogSummary goes out whole",
            )
    for (post_id, target), decision in sorted(facts.decisions.items()):
        if post_id == facts.post.id and decision.reason == "not_live":
            yield Notice(
                stage="announce",
                severity="warning",
                message=f"{target}: the page (or its card) is not live yet; announced on a later run",
                fix="deploy the site, then run publish again",
            )
