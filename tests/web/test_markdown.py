"""The markdown renderer: useful formatting survives, nothing executable does."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.utils.safestring import SafeString

from annotation.web.markdown import render_markdown

# Each payload is rendered and the output must carry no live script of any kind.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="window.pwned=1">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example"><input name=p type=password></form>',
    "<input autofocus onfocus=alert(1)>",
    '<a href="javascript:alert(1)">raw link</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](jav&#x0A;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](http://example.com/a.png)',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '[x](http://example.com "title\\" onmouseover=\\"alert(1)")',
    "[x](http://example.com \"a' onmouseover='alert(1)\")",
    '[x](http://example.com" onmouseover="alert(1))',
    "`<script>alert(1)</script>`\n\n```html\n<img src=x onerror=alert(1)>\n```",
    "<!-- <script>alert(1)</script> -->",
    "<details open ontoggle=alert(1)>",
    "<a href=# onclick=alert(1)>x</a>",
]

# What the sanitiser may emit; anything else in the parsed output is a failure.
SAFE_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em",
    "s", "del", "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    "a", "span",
}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "title", "rel", "target", "class", "start"}


class _Collector(HTMLParser):
    """Parses the output like a browser would and records every element and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _assert_inert(html: str) -> None:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    for tag, attrs in collector.elements:
        assert tag in SAFE_TAGS, (tag, html)
        for name, value in attrs.items():
            assert name in SAFE_ATTRIBUTES, (tag, name, html)
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), html
        if tag == "a" and "href" in attrs:
            assert attrs.get("rel") == "noopener noreferrer nofollow", html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_render_inert(payload):
    _assert_inert(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_inside_markdown_structures(payload):
    wrapped = f"# {payload}\n\n- {payload}\n\n> {payload}\n\n| a |\n|---|\n| {payload} |\n"
    _assert_inert(render_markdown(wrapped))


def test_raw_html_is_shown_as_text():
    html = render_markdown("<script>alert(1)</script> and <b>bold</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_javascript_link_is_not_a_link():
    html = render_markdown("[click](javascript:alert(1))")
    assert "href" not in html
    assert "click" in html


def test_obfuscated_javascript_link_is_not_a_link():
    html = render_markdown("[click](jav&#x09;ascript:alert(1))")
    assert "href" not in html


def test_link_title_cannot_inject_attributes():
    html = render_markdown('[x](http://example.com "t\\" onmouseover=\\"alert(1)")')
    assert 'href="http://example.com"' in html
    collector = _Collector()
    collector.feed(html)
    [attrs] = [attrs for tag, attrs in collector.elements if tag == "a"]
    assert set(attrs) == {"href", "title", "rel", "target"}
    assert attrs["title"] == 't" onmouseover="alert(1)'  # a harmless attribute value


def test_http_links_are_live_and_safe():
    html = render_markdown("[docs](https://example.com/a?b=1&c=2) <mailto:a@example.com>")
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'target="_blank"' in html
    assert 'href="mailto:a@example.com"' in html


def test_relative_links_are_not_live():
    """A model's link into this application (/admin/, /accounts/logout/) stays text."""
    html = render_markdown("[admin](/admin/) [rel](../x) [proto](//evil.example/)")
    assert "href" not in html


def test_images_become_their_alt_text():
    html = render_markdown("![a cat](https://example.com/cat.png)")
    assert "<img" not in html
    assert "[image: a cat]" in html


def test_formatting_survives():
    source = (
        "# Title\n\n## Sub\n\nSome **bold**, *em*, ~~gone~~ and `code`.\n\n"
        "1. one\n2. two\n\n- a\n- b\n\n> quote\n\n---\n\n"
        "```python\nprint('<hi>')\n```\n\n"
        "| left | right |\n|:-----|------:|\n| 1 | 2 |\n"
    )
    html = render_markdown(source)
    for fragment in (
        "<h1>Title</h1>",
        "<h2>Sub</h2>",
        "<strong>bold</strong>",
        "<em>em</em>",
        "<s>gone</s>",
        "<code>code</code>",
        "<ol>",
        "<ul>",
        "<blockquote>",
        "<hr>",
        "<pre><code>print('&lt;hi&gt;')",
        "<table>",
        '<th class="align-left">left</th>',
        '<td class="align-right">2</td>',
    ):
        assert fragment in html, (fragment, html)
    assert "style=" not in html


def test_result_is_safe_string_and_empty_input():
    assert isinstance(render_markdown("x"), SafeString)
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
