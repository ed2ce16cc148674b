"""Template helpers of the challenge side: metric values at their precision, direction arrows."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def metric_value(scores, metric):
    """`{% metric_value row.scores metric %}`: the value at the metric's precision, or an em dash."""
    value = (scores or {}).get(metric["key"])
    if value is None:
        return "—"
    return f"{value:.{int(metric.get('precision', 4))}f}"


@register.simple_tag
def metric_header(metric):
    """The column header with its direction: ↑ higher is better, ↓ lower is better."""
    higher = metric.get("higher_is_better", True)
    return format_html(
        '{} <span class="direction" title="{}" aria-label="{}">{}</span>',
        metric["label"],
        "higher is better" if higher else "lower is better",
        "higher is better" if higher else "lower is better",
        "↑" if higher else "↓",
    )
