from django import template
from django.utils.safestring import mark_safe

from postmortems.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    """Render Markdown to sanitised HTML (see ``postmortems.markdown``)."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3
