"""`{{ text|markdown }}`: Markdown rendered and sanitised with the project's one helper
(`challenges.models.render_markdown`: markdown + nh3), for the call for papers."""

from django import template

from challenges.models import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    return render_markdown(text)
