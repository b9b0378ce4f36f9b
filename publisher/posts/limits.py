"""How much work one post may cost the reader.

Posts come from outside contributors (``publish check`` is a pull-request gate), so every
post is untrusted: a few hundred hostile bytes must not stall the run or exhaust memory.
Each cap is generous, many times the largest real post seen (35 KB, lines under 2,000
characters, frontmatter under 2 KB), and a post over a cap gets one error naming the
limit and the fix; the other posts are read as usual.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps on one post. Part of the read context, so changing one invalidates the cache."""

    #: The whole file (frontmatter and body), in bytes. The markdown renderer is linear
    #: but pure Python: crafted markdown ("![" on every line) renders at about 50 KB a
    #: second, so this bounds the worst post to seconds, not minutes.
    post_bytes: int = 512 * 1024
    #: The frontmatter between the '---' lines, in characters.
    frontmatter_chars: int = 64 * 1024
    #: Values (keys, values, list items) once YAML aliases are expanded.
    frontmatter_values: int = 10_000
    #: Characters of text (keys and values) once YAML aliases are expanded.
    frontmatter_expanded_chars: int = 1_000_000
    #: One line of the body, in characters.
    line_chars: int = 100_000
    #: A tag or category, in UTF-8 bytes: its feed folder name must stay under the 255
    #: bytes file systems allow, with room for the short hash a lossy slug gets.
    label_bytes: int = 200
    #: Tags, and categories, on one post: each gets feeds of its own that carry the whole
    #: post, so 1,500 tags on one 70 KB post wrote 570 MB. Real posts have up to 11.
    labels_per_post: int = 50
    #: A date as written, in characters (the fallback date parser is not cheap).
    date_chars: int = 200
    #: A relative file name (ogImage), in UTF-8 bytes; one folder or file name in it may
    #: have at most 255.
    file_name_bytes: int = 1024


DEFAULT_LIMITS = Limits()

#: The most bytes one name in a path may have on common file systems (ext4, APFS, NTFS).
NAME_MAX = 255
