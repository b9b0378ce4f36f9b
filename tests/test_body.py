"""Post bodies: MDX stripped, CommonMark rendered, every reference made absolute."""

from __future__ import annotations

import pytest

from publisher.posts.body import absolutize, to_html
from publisher.posts.jsx import strip_mdx

BASE = "https://blog.example.org/2024/post/"

# --- MDX ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        pytest.param(
            "import authors from 'utils/author-data';\n\nText.\n", "\nText.\n", id="import"
        ),
        pytest.param(
            "import {\n  Tabs,\n  TabItem,\n} from '@theme/Tabs';\nimport Foo from './foo';\n\nText.\n",
            "\nText.\n",
            id="multi-line-import",
        ),
        pytest.param(
            "import * as Icons from './icons';\nimport './style.css';\nimport A, { B } from 'c';\n\nText.\n",
            "\nText.\n",
            id="import-forms",
        ),
        pytest.param(
            "export const meta = {\n  title: 'x',\n  tags: ['a', 'b'],\n};\n\nText.\n",
            "\nText.\n",
            id="multi-line-export",
        ),
        pytest.param(
            "export default function Layout({ children }) {\n  return <div>{children}</div>;\n}\n\nText.\n",
            "\nText.\n",
            id="export-default-function",
        ),
        pytest.param(
            "Before.\n\n<BlogAuthor {...authors.BillMulligan} />\n\nAfter.\n",
            "Before.\n\n\n\nAfter.\n",
            id="self-closing-component",
        ),
        pytest.param(
            '<Video\n  src="demo.mp4"\n  controls\n/>\n\nText.\n',
            "\n\nText.\n",
            id="multi-line-self-closing",
        ),
        pytest.param(
            '<Admonition type="note" title="Heads up">\nKeep **this** text.\n</Admonition>\n',
            "\nKeep **this** text.\n\n",
            id="block-component-keeps-children",
        ),
        pytest.param(
            "<Tip>inline children</Tip> stay.\n", "inline children stay.\n", id="inline-component"
        ),
        pytest.param("<>\nFragment text.\n</>\n", "\nFragment text.\n\n", id="fragment"),
        pytest.param(
            "<div style={{ display: 'flex', gap: '1rem' }} className=\"row\">\n"
            '<img src="a.png" style={{width: \'50%\'}} alt="A" />\n</div>\n',
            '<div class="row">\n<img src="a.png" alt="A"/>\n</div>\n',
            id="style-dropped-className-to-class",
        ),
        pytest.param(
            "<p className='lead'>Lead</p>\n", "<p class='lead'>Lead</p>\n", id="className-quoted"
        ),
        pytest.param(
            "A {/* hidden */}B.\n\n{/*\n  a multi-line comment\n*/}\n\nC.\n",
            "A B.\n\n\n\nC.\n",
            id="jsx-comments",
        ),
        pytest.param(
            "```js\nimport x from 'y';\n<Component />\n"
            '<div style={{a: 1}} className="c"></div>\n{/* kept */}\n```\n',
            "```js\nimport x from 'y';\n<Component />\n"
            '<div style={{a: 1}} className="c"></div>\n{/* kept */}\n```\n',
            id="backtick-fence-untouched",
        ),
        pytest.param(
            "~~~~\nexport const a = 1;\n<Foo/>\n~~~~\n",
            "~~~~\nexport const a = 1;\n<Foo/>\n~~~~\n",
            id="tilde-fence-untouched",
        ),
        pytest.param(
            "````md\n```\n<Inner />\n```\n<StillCode />\n````\n\n<Gone />\n",
            "````md\n```\n<Inner />\n```\n<StillCode />\n````\n\n\n",
            id="shorter-fence-does-not-close",
        ),
        pytest.param(
            "Use `import x from 'y'` and `<Component />` here.\n",
            "Use `import x from 'y'` and `<Component />` here.\n",
            id="inline-code-untouched",
        ),
        pytest.param(
            "Use ``a ` <Foo /> b`` here.\n",
            "Use ``a ` <Foo /> b`` here.\n",
            id="double-backtick-code-untouched",
        ),
        pytest.param(
            "x" * 300 + " `code` then <Note>kept</Note> and <Foo />.\n",
            "x" * 300 + " `code` then kept and .\n",
            id="component-after-code-span-late-in-text",
        ),
        pytest.param(
            "You can\nimport the dashboard into Grafana.\n",
            "You can\nimport the dashboard into Grafana.\n",
            id="prose-import-mid-paragraph",
        ),
        pytest.param(
            "import the dashboard into Grafana, then export the metrics.\n",
            "import the dashboard into Grafana, then export the metrics.\n",
            id="prose-import-at-paragraph-start",
        ),
        pytest.param(
            "See <https://example.org>, a < b and x<y.\n",
            "See <https://example.org>, a < b and x<y.\n",
            id="autolink-and-less-than",
        ),
        pytest.param(
            "<!-- an HTML comment -->\nText.\n",
            "<!-- an HTML comment -->\nText.\n",
            id="html-comment",
        ),
        pytest.param(
            '<iframe width="560" src="https://www.youtube.com/embed/x" allowFullScreen></iframe>\n',
            '<iframe width="560" src="https://www.youtube.com/embed/x" allowFullScreen></iframe>\n',
            id="plain-html-untouched",
        ),
    ],
)
def test_strip_mdx(markdown: str, expected: str) -> None:
    assert strip_mdx(markdown) == expected


def test_code_keeps_mdx_through_rendering() -> None:
    html = to_html(
        "import x from 'y';\n\n<Note>Hi</Note> `<Note />`\n\n```\nimport x from 'y';\n<Note />\n```\n",
        BASE,
    )
    assert html == (
        "<p>Hi <code>&lt;Note /&gt;</code></p>\n"
        "<pre><code>import x from 'y';\n&lt;Note /&gt;\n</code></pre>\n"
    )


# --- absolute references -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            '<a href="#intro">x</a>',
            '<a href="https://blog.example.org/2024/post/#intro">x</a>',
            id="anchor",
        ),
        pytest.param(
            '<a href="../other/">o</a>',
            '<a href="https://blog.example.org/2024/other/">o</a>',
            id="parent",
        ),
        pytest.param(
            '<a href="/about/">o</a>', '<a href="https://blog.example.org/about/">o</a>', id="root"
        ),
        pytest.param(
            '<a href="?page=2">p</a>',
            '<a href="https://blog.example.org/2024/post/?page=2">p</a>',
            id="query",
        ),
        pytest.param(
            '<img src="//cdn.example.org/a.png">',
            '<img src="https://cdn.example.org/a.png">',
            id="protocol-relative",
        ),
        pytest.param(
            '<a href="mailto:me@example.org">m</a>',
            '<a href="mailto:me@example.org">m</a>',
            id="mailto",
        ),
        pytest.param('<a href="tel:+4930123">t</a>', '<a href="tel:+4930123">t</a>', id="tel"),
        pytest.param(
            '<img src="data:image/png;base64,AAAA">',
            '<img src="data:image/png;base64,AAAA">',
            id="data",
        ),
        pytest.param(
            '<a href="https://other.org/x">x</a>', '<a href="https://other.org/x">x</a>', id="abs"
        ),
        pytest.param(
            '<img src="img/grüße.png">',
            '<img src="https://blog.example.org/2024/post/img/gr%C3%BC%C3%9Fe.png">',
            id="non-ascii-relative",
        ),
        pytest.param(
            '<a href="https://other.org/ä b">e</a>',
            '<a href="https://other.org/%C3%A4%20b">e</a>',
            id="non-ascii-absolute",
        ),
        pytest.param(
            '<a href="https://other.org/a?x=1&amp;y=2">q</a>',
            '<a href="https://other.org/a?x=1&amp;y=2">q</a>',
            id="entity-in-query",
        ),
        pytest.param(
            '<img src="a.png" srcset="a.png 1x, ../b.png 2x, //cdn.example.org/c.png 3x">',
            '<img src="https://blog.example.org/2024/post/a.png" '
            'srcset="https://blog.example.org/2024/post/a.png 1x, '
            'https://blog.example.org/2024/b.png 2x, https://cdn.example.org/c.png 3x">',
            id="srcset",
        ),
        pytest.param(
            '<video poster="poster.jpg" src="v.mp4"></video>',
            '<video poster="https://blog.example.org/2024/post/poster.jpg" '
            'src="https://blog.example.org/2024/post/v.mp4"></video>',
            id="poster",
        ),
        pytest.param(
            '<blockquote cite="src.html">q</blockquote>',
            '<blockquote cite="https://blog.example.org/2024/post/src.html">q</blockquote>',
            id="cite",
        ),
        pytest.param("text <b>bold</b> tail", "text <b>bold</b> tail", id="no-references"),
        pytest.param("", "", id="empty"),
    ],
)
def test_absolutize(html: str, expected: str) -> None:
    assert absolutize(html, BASE) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            '<picture><source srcset="s.webp 480w"><img src="l.jpg"></picture>',
            '<picture><source srcset="https://blog.example.org/2024/post/s.webp 480w"></source>'
            '<img src="https://blog.example.org/2024/post/l.jpg"></picture>',
            id="picture-source",
        ),
        pytest.param(
            '<video><source src="a.mp4"><source src="b.webm">Fallback <a href="v.mp4">v</a>.</video> after',
            '<video><source src="https://blog.example.org/2024/post/a.mp4"></source>'
            '<source src="https://blog.example.org/2024/post/b.webm"></source>'
            'Fallback <a href="https://blog.example.org/2024/post/v.mp4">v</a>.</video> after',
            id="video-sources",
        ),
        pytest.param(
            '<embed src="x.swf"><p>The rest of the post.</p> more',
            '<embed src="https://blog.example.org/2024/post/x.swf"></embed>'
            "<p>The rest of the post.</p> more",
            id="embed",
        ),
        pytest.param("<p>a<wbr>b<wbr>c</p>", "<p>a<wbr></wbr>b<wbr></wbr>c</p>", id="wbr"),
    ],
)
def test_void_elements_do_not_swallow_what_follows(html: str, expected: str) -> None:
    # libxml2 parses HTML 4: it used to nest everything after <embed>/<source> inside it.
    assert absolutize(html, BASE) == expected


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "![Logo](logo.png)\n",
            '<p><img src="https://blog.example.org/2024/post/logo.png" alt="Logo"></p>\n',
        ),
        (
            "[Docs](../docs/#install)\n",
            '<p><a href="https://blog.example.org/2024/docs/#install">Docs</a></p>\n',
        ),
        (
            "Text with [anchor](#usage).\n",
            '<p>Text with <a href="https://blog.example.org/2024/post/#usage">anchor</a>.</p>\n',
        ),
        (
            "[ü](Ünïcode/page)\n",
            '<p><a href="https://blog.example.org/2024/post/%C3%9Cn%C3%AFcode/page">ü</a></p>\n',
        ),
        (
            "| a | b |\n|---|---|\n| 1 | ~~2~~ |\n",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
            "<tbody>\n<tr>\n<td>1</td>\n<td><del>2</del></td>\n</tr>\n</tbody>\n</table>\n",
        ),
        ("", ""),
    ],
)
def test_to_html(markdown: str, expected: str) -> None:
    assert to_html(markdown, BASE) == expected
