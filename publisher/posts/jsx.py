"""MDX syntax removed from markdown, leaving plain CommonMark with HTML.

MDX is removed without touching code: fenced code blocks and inline code spans are
copied verbatim. ``import``/``export`` statements go; JSX components (capitalised tags)
go but their children stay; JSX attributes (``style={{...}}``) are dropped from HTML tags
and ``className`` becomes ``class``; ``{/* comments */}`` go.
"""

from __future__ import annotations

from publisher.lazy import lazy_pattern
from publisher.tuples import NamedTuple

_FENCE = lazy_pattern(r"^ {0,3}(`{3,}|~{3,})")
# ESM as MDX reads it: `import x from`, `import {`, `import * as`, `import './x'`,
# `export const|default|function ...`; not prose such as "import the dashboard".
_STATEMENT = lazy_pattern(
    r"^(?:import\s+(?:[{*'\"]|[\w$]+\s*(?:,|from\b))"
    r"|export\s+(?:[{*]|(?:const|let|var|function|class|default|async)\b))"
)
_TAG_NAME = lazy_pattern(r"[A-Za-z][\w.:-]*")


def strip_mdx(markdown: str) -> str:
    """Remove MDX syntax from markdown, leaving plain CommonMark with HTML."""
    # A one-character scan first: searching for a run of three is far slower (issue 12).
    fenced = ("`" in markdown and "```" in markdown) or ("~" in markdown and "~~~" in markdown)
    if not fenced and not _may_hold_statement(markdown):
        # No fence and no line that may open an import or export: every line is prose,
        # so the line walk below would hand all of it to _strip_jsx as it is.
        return _strip_jsx(markdown)
    return _strip_lines(markdown)


def _strip_lines(markdown: str) -> str:
    """:func:`strip_mdx`, line by line: fences copied, statements dropped, prose stripped."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    statement_depth: int | None = None  # open braces of a multi-line import/export

    def flush() -> None:
        if prose:
            out.append(_strip_jsx("\n".join(prose)))
            prose.clear()

    block_start = True  # MDX only reads import/export where a block can start
    for line in markdown.split("\n"):
        at_block_start, block_start = block_start, not line.strip()
        if fence is not None:
            out.append(line)
            closing = _FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = None
            continue
        if statement_depth is not None:
            statement_depth += _brace_delta(line)
            if statement_depth <= 0 and not line.rstrip().endswith(","):
                statement_depth = None
            block_start = True
            continue
        opening = _FENCE.match(line)
        if opening:
            flush()
            fence = opening.group(1)
            out.append(line)
            continue
        if at_block_start and _STATEMENT.match(line):
            depth = _brace_delta(line)
            if depth > 0 or (line.rstrip().endswith(("{", "(", "[", ",")) and depth >= 0):
                statement_depth = max(depth, 1)
            block_start = True
            continue
        prose.append(line)
    flush()
    return "\n".join(out)


def _may_hold_statement(markdown: str) -> bool:
    """Whether a line of ``markdown`` starts as ``_STATEMENT`` needs (it matches from the
    line's first character)."""
    # Both words end in "port": one search rules both out in most posts (issue 12).
    return "port" in markdown and (
        markdown.startswith(("import", "export"))
        or "\nimport" in markdown
        or "\nexport" in markdown
    )


def _brace_delta(line: str) -> int:
    return sum(line.count(c) for c in "{([") - sum(line.count(c) for c in "})]")


_SPECIAL = lazy_pattern(r"[`{<]")
_TICKS = lazy_pattern(r"`+")


#: How far, in total, failed tag scans may read per character of text. A ``<`` that is
#: not a tag is read up to where the attempt fails, and then every ``<`` after it is tried
#: again: ``<b <b <b ...`` would read the rest of the text once per ``<`` (quadratic).
#: Real posts fail a few short scans; once a text has spent this budget, a ``<`` whose tag
#: does not close within the budget left is plain text.
_FAILED_SCAN_BUDGET = 8
_ATTRIBUTE = lazy_pattern(r"[^\s=/>{]+")
_UNQUOTED = lazy_pattern(r"[^\s>]+")


def _strip_jsx(text: str) -> str:
    if "<" not in text and "{" not in text and "`" not in text:
        return text  # nothing that starts code, a comment or a tag (_SPECIAL): prose
    out: list[str] = []
    i, n = 0, len(text)
    budget = _FAILED_SCAN_BUDGET * n + 4096
    # A code span that found no closing run of k backticks after some point finds none of
    # k or more after any later point either: remember the shortest such k.
    unclosed_ticks = n + 1
    while i < n:
        # Copy plain text up to the next character that can start code, a comment or a tag.
        special = _SPECIAL.search(text, i)
        if special is None:
            out.append(text[i:])
            break
        if special.start() > i:
            out.append(text[i : special.start()])
            i = special.start()
        c = text[i]
        if c == "`":
            ticks_match = _TICKS.match(text, i)
            assert ticks_match is not None
            run = len(ticks_match.group(0))
            end = -1 if run >= unclosed_ticks else text.find(text[i : i + run], i + run)
            if end == -1:
                unclosed_ticks = min(unclosed_ticks, run)
                stop = i + run
            else:
                stop = end + run
            out.append(text[i:stop])
            i = stop
        elif text.startswith("{/*", i):
            end = text.find("*/}", i)
            i = n if end == -1 else end + 3
        elif c == "<":
            limit = min(n, i + budget)
            consumed, replacement = _jsx_tag(text, i, limit)
            if consumed > 0:
                out.append(replacement)
                i += consumed
            else:
                budget += consumed
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _jsx_tag(text: str, start: int, limit: int) -> tuple[int, str]:
    """Parse a tag at ``start``, reading no further than ``limit``.

    Returns (characters consumed, replacement), or (-characters read, '') when there is
    no tag here, so the caller can charge the failed attempt to its budget.
    """
    i = start + 1
    closing = text.startswith("/", i)
    if closing:
        i += 1
    if text.startswith(">", i):  # fragments <> and </>
        return i + 1 - start, ""
    name = _TAG_NAME.match(text, i, limit)
    if name is None:
        return 0, ""
    i = name.end()
    if i < limit and not (text[i].isspace() or text[i] in "/>"):
        return start - i, ""  # an autolink such as <https://example.org>
    reach = i  # the furthest a search has read, for the budget
    attributes: list[str] = []
    changed = False
    while i < limit:
        while i < limit and text[i].isspace():
            i += 1
        if i >= limit:
            break
        if text[i] == ">" or text.startswith("/>", i):
            end = i + (1 if text[i] == ">" else 2)
            return _tag(text, start, end, closing, name.group(0), attributes if changed else None)
        attribute = _attribute(text, i, limit)
        i, reach = attribute.end, max(reach, attribute.reach)
        if not attribute.ok:
            break
        if attribute.kept is not None:
            attributes.append(attribute.kept)
        changed = changed or attribute.changed
    return start - max(i, reach), ""


class _Attribute(NamedTuple):
    ok: bool  # False: not an attribute, ``end`` is where reading it failed
    end: int
    reach: int  # the furthest a search read, for the budget
    kept: str | None  # the attribute as written into HTML; None: dropped
    changed: bool  # kept differs from the text (renamed or dropped)


def _attribute(text: str, i: int, limit: int) -> _Attribute:
    """One JSX attribute (or ``{...spread}``) at ``i``."""
    if text[i] == "{":  # spread: {...props}
        end = _skip_braces(text, i, limit)
        return _Attribute(True, end, end, None, True)
    attr = _ATTRIBUTE.match(text, i, limit)
    if attr is None:
        return _Attribute(False, i, i, None, False)
    i = reach = attr.end()
    value = ""
    if text.startswith("=", i):
        i += 1
        if i < limit and text[i] == "{":  # an expression: dropped
            end = _skip_braces(text, i, limit)
            return _Attribute(True, end, end, None, True)
        close = -1
        if i < limit and text[i] in "\"'":
            close = text.find(text[i], i + 1, limit)
            # An unclosed quote read to the limit: charge that to the budget too.
            reach = limit if close == -1 else close
        if close != -1:
            value = "=" + text[i : close + 1]
            i = close + 1
        else:
            unquoted = _UNQUOTED.match(text, i, limit)
            if unquoted is None:
                return _Attribute(False, i, reach, None, False)
            value = "=" + unquoted.group(0)
            i = unquoted.end()
    if attr.group(0) == "className":
        return _Attribute(True, i, reach, "class" + value, True)
    return _Attribute(True, i, reach, attr.group(0) + value, False)


def _tag(
    text: str, start: int, end: int, closing: bool, name: str, attributes: list[str] | None
) -> tuple[int, str]:
    """The tag read from ``start`` to ``end``: a component is dropped, an HTML tag kept as
    written, or rewritten from ``attributes`` when one was renamed or dropped."""
    if name[0].isupper():
        return end - start, ""
    if attributes is None:
        return end - start, text[start:end]
    slash = "/" if text[end - 2 : end] == "/>" else ""
    inside = " ".join([("/" if closing else "") + name, *attributes])
    return end - start, f"<{inside}{slash}>"


def _skip_braces(text: str, i: int, limit: int) -> int:
    depth = 0
    quote: str | None = None
    while i < limit:
        c = text[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i
