"""Template filter `waiting_for_queue`: is this object's work still waiting for the broker (outbox)?"""

from django import template

from common.dispatch import dispatch_waiting, ref_for

register = template.Library()

WAITING_TEXT = (
    "Queued, waiting for the queue service: it cannot be reached at the moment. Your upload is stored "
    "and will be processed as soon as the service is back; nothing is lost."
)


@register.filter
def waiting_for_queue(obj) -> bool:
    return obj is not None and getattr(obj, "pk", None) is not None and dispatch_waiting(ref_for(obj))


@register.simple_tag
def waiting_for_queue_text() -> str:
    return WAITING_TEXT
