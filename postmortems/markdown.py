"""Safe Markdown: post-mortem sections are written by people, rendered to HTML nobody can script.

Python-Markdown renders; nh3 (the Ammonia sanitiser) then keeps only the tags,
attributes and URL schemes below, dropping script/style elements with their
content, event-handler attributes and ``javascript:`` links.
"""

import re

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> str:
    """Markdown source -> sanitised HTML fragment (a str safe to mark safe in templates)."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"})


# Characters Python-Markdown gives a meaning to, escaped with a backslash so they read as themselves.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def markdown_literal(text: str) -> str:
    """``text`` (a person's note, an alert's name) as Markdown that renders exactly as written: no link, no
    emphasis, no HTML (``<`` and ``&`` become entities), line breaks kept (hard breaks, indented to stay inside
    a list item). Used where user text is copied into a Markdown document (a post-mortem draft's timeline)."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", text.replace("&", "&amp;").replace("<", "&lt;"))
    return "  \n  ".join(escaped.splitlines())
