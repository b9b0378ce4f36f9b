"""What the cards stage would refuse, found without rendering anything: for ``publish check``.

``publish check`` runs on pull requests, so everything the cards stage would warn about
or refuse must show up there too, not only in ``build``: a post's unknown ``ogLayout``
or bad ``ogImageFocus``, an image that is SVG, in a format no allowed decoder reads,
bigger than the file or pixel caps, or missing; a remote ``ogImageUrl`` with a scheme or
a literal address that would be refused; a layout file a post picks that does not
validate; fonts that do not load. Images are judged from their header alone (``stat``
and ``Image.open``, no pixel decoded) and no network request is made: a host *name* in
``ogImageUrl`` is only resolved and checked when the build fetches it.

The build uses the same functions for the same per-post problems, so the two cannot
drift apart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from publisher.cards import fonts
from publisher.cards.addresses import AddressPolicy, literal_address, refusal
from publisher.cards.crop import parse_focus
from publisher.cards.images import SourceImageError, probe
from publisher.cards.layout import available, load_layouts
from publisher.cards.options import CardOptions, layout_folders
from publisher.errors import Problem
from publisher.posts import display_path
from publisher.posts.model import Post


def layout_problem(
    post: Post, file: str, options: CardOptions, known: Sequence[str]
) -> Problem | None:
    """The post's ``ogLayout`` names no layout: it falls back to the site's default."""
    chosen = post.frontmatter.get(options.layout_key)
    if chosen is None or (isinstance(chosen, str) and chosen in known):
        return None
    return Problem(
        file=file,
        field=options.layout_key,
        message=f"card layout {chosen!r} does not exist; the site default '{options.layout}' is used",
        fix=f"use one of {', '.join(sorted(known))}",
        severity="warning",
    )


def focus_problem(post: Post, file: str, options: CardOptions) -> Problem | None:
    """The post's ``ogImageFocus`` is not a focal point: the busiest region is kept."""
    raw = post.frontmatter.get(options.focus_key)
    if raw is None or parse_focus(raw) is not None:
        return None
    return Problem(
        file=file,
        field=options.focus_key,
        message=f"{raw!r} is not a focal point; the busiest region is kept instead",
        fix="write it as [x, y] with fractions from 0 to 1, e.g. [0.3, 0.5]",
        severity="warning",
    )


def remote_problem(url: str, options: CardOptions) -> SourceImageError | None:
    """What can be said about a remote image URL without a network request."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return SourceImageError(
            f"uses the {scheme or 'missing'} scheme; only http and https images are fetched",
            "link an https:// image or put the file in the post's folder",
        )
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
    if not host:
        return SourceImageError("has no valid host name", "link a full https:// URL to the image")
    address = literal_address(host)
    if address is None and (host == "localhost" or host.endswith(".localhost")):
        address = ipaddress.ip_address("127.0.0.1")  # RFC 6761: always loopback
    policy = AddressPolicy.from_config(options.remote_allow_networks)
    if address is not None and (why := refusal(address, policy)) is not None:
        return SourceImageError(
            f"is not fetched: {host} is {why}",
            "link an image on a public server or put it in the post's folder, or, for an"
            " image server on your own network, see cards.remote.allow_private_networks",
        )
    return None


def check_cards(
    options: CardOptions,
    posts: Sequence[Post],
    *,
    root: Path | None = None,
    config_file: str = "config.yaml",
) -> list[Problem]:
    """Every problem the cards stage would report for these posts, without rendering.

    Site-wide problems (fonts, logo, a layout a post picks that is broken) name
    ``config_file`` or the layout file; the rest name the post's file and field.
    """
    base = root or Path.cwd()
    problems: list[Problem] = []
    folders = layout_folders(options)
    known = available(folders)
    problems.extend(_site_problems(options, config_file))

    chosen = sorted(
        {
            value
            for post in posts
            if isinstance(value := post.frontmatter.get(options.layout_key), str) and value in known
        }
    )
    _, broken = load_layouts(tuple(chosen), folders)
    for line in broken:
        problems.append(
            Problem(
                file=config_file,
                field="cards.layouts_folder",
                message=f"a layout posts use does not load: {line}",
                fix="fix the layout file; the cards stage stops until then",
            )
        )

    for post in posts:
        file = display_path(post.source, base)
        for problem in (
            layout_problem(post, file, options, known),
            focus_problem(post, file, options),
        ):
            if problem is not None:
                problems.append(problem)
        problems.extend(_image_problems(post, file, options))
    return sorted(problems, key=lambda p: (p.file, p.field or "", p.message))


def _site_problems(options: CardOptions, config_file: str) -> list[Problem]:
    problems = []
    for key, path in (("regular", options.regular_font), ("bold", options.bold_font)):
        if not path.is_file() or not fonts.coverage(str(path)):
            problems.append(
                Problem(
                    file=config_file,
                    field=f"cards.fonts.{key}",
                    message=f"font {path} cannot be read",
                    fix="point it at a .ttf or .otf file",
                )
            )
    if options.logo is not None:
        try:
            probe(options.logo, max_bytes=options.max_image_bytes, max_pixels=options.max_pixels)
        except SourceImageError as exc:
            problems.append(
                Problem(
                    file=config_file,
                    field="cards.logo",
                    message=f"{options.logo.name} {exc.message}",
                    fix=exc.fix,
                    severity="error" if exc.severity == "error" else "warning",
                )
            )
    return problems


def _image_problems(post: Post, file: str, options: CardOptions) -> list[Problem]:
    if post.og_image is not None:
        try:
            probe(post.og_image, max_bytes=options.max_image_bytes, max_pixels=options.max_pixels)
        except SourceImageError as exc:
            return [
                Problem(
                    file=file,
                    field="ogImage",
                    message=f"'{post.og_image.name}' {exc.message}",
                    fix=f"{exc.fix}; until then the card has no image",
                    severity="error" if exc.severity == "error" else "warning",
                )
            ]
        return []
    if post.og_image_url is None or not options.remote_images:
        return []
    refused = remote_problem(post.og_image_url, options)
    if refused is None:
        return []
    return [
        Problem(
            file=file,
            field="ogImageUrl",
            message=f"{post.og_image_url} {refused.message}",
            fix=f"{refused.fix}; until then the card has no image",
            severity="warning",
        )
    ]
