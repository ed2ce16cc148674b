"""`{% when dt workshop %}`: a datetime in the workshop's time zone, with the viewer's local time beside
(filled in by static/js/localtime.js from the ISO instant)."""

import zoneinfo

from django import template
from django.utils.html import format_html

register = template.Library()

ZONE_NAMES = {
    "America/Los_Angeles": "Pacific Time",
    "America/Denver": "Mountain Time",
    "America/Chicago": "Central Time",
    "America/New_York": "Eastern Time",
    "Europe/Zurich": "Central European Time",
    "Europe/London": "UK Time",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}


def zone_label(zone_key: str) -> str:
    return ZONE_NAMES.get(zone_key, zone_key.replace("_", " "))


def format_in_zone(value, zone_key: str) -> str:
    local = value.astimezone(zoneinfo.ZoneInfo(zone_key))
    hour = local.strftime("%I").lstrip("0")
    minute = local.strftime(":%M") if local.minute else ""
    ampm = local.strftime("%p").lower()
    label, abbreviation = zone_label(zone_key), local.strftime("%Z")
    suffix = "" if abbreviation == label else f" ({abbreviation})"  # "UTC", not "UTC (UTC)"
    return f"{local:%a} {local.day} {local:%B %Y}, {hour}{minute}{ampm} {label}{suffix}"


@register.simple_tag
def when(value, workshop):
    if value is None:
        return ""
    zone_key = getattr(workshop, "time_zone", None) or "UTC"
    iso = value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
    return format_html(
        '<time datetime="{}">{}</time> <span class="local-time" data-utc="{}"></span>',
        iso,
        format_in_zone(value, zone_key),
        iso,
    )


@register.filter
def in_zone(value, workshop):
    """Plain-text form for e-mails and CSV."""
    return format_in_zone(value, getattr(workshop, "time_zone", "UTC")) if value else ""
