"""Render untrusted markdown (model output, guidelines) to safe HTML.

Two layers, so that a bug in one is not an XSS hole:

1. markdown-it-py with ``html=False``: raw HTML in the source is shown as text, and
   its link validator refuses ``javascript:``/``vbscript:``/``file:``/``data:`` URLs.
2. nh3 (ammonia) on the output: an allowlist of tags and attributes, ``href`` only with
   ``http``/``https``/``mailto`` (relative links are dropped too: a model's ``/admin/``
   must not become a link into the app), every link ``rel="noopener noreferrer
   nofollow"`` and opened in a new tab so the annotator's form is never navigated away.

Images are rendered as their alt text: remote images would be blocked by the
Content-Security-Policy anyway (and would leak the annotator's address to whoever
wrote the URL). Table alignment becomes a class because the CSP forbids inline styles.
"""

from __future__ import annotations

import html

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
# Classes go through nh3's per-tag class filter (and must not be listed in the attributes).
ALLOWED_CLASSES = {"th": ALIGN_CLASSES, "td": ALIGN_CLASSES, "span": {"md-image"}}
URL_SCHEMES = {"http", "https", "mailto"}
_LIVE_PREFIXES = ("http://", "https://", "mailto:")


def _image_as_text(self, tokens, idx, options, env) -> str:
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return f'<span class="md-image">[image: {html.escape(alt or "no description")}]</span>'


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_text)
    return md


_md = _build()


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        # Only absolute http(s)/mailto links stay live; nh3's scheme check lets relative
        # URLs through, which would point into this application.
        return value if value.strip().lower().startswith(_LIVE_PREFIXES) else None
    return value


def render_markdown(text: str | None) -> SafeString:
    """Render ``text`` (untrusted markdown) to sanitised HTML, safe to put in a template."""
    if not text:
        return mark_safe("")
    tokens = _md.parse(str(text))
    for token in tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:").strip()
            if f"align-{align}" in ALIGN_CLASSES:
                token.attrSet("class", f"align-{align}")
    rendered = _md.renderer.render(tokens, _md.options, {})
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    # Sanitised by nh3 with the allowlist above.
    return mark_safe(cleaned)
