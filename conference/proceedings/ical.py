"""The iCalendar feed of a workshop's programme: one event per slot (paper talks, invited talks,
challenge sessions, breaks), in the workshop's time zone, which the feed defines (VTIMEZONE)."""

from icalendar import Calendar, Event

from common.urls import absolute_url
from conference.models import Workshop

from . import selectors
from .models import Slot


def slot_summary(slot: Slot) -> str:
    if slot.kind == Slot.Kind.PAPER and slot.paper_id:
        return f"Paper talk: {selectors.paper_talk(paper=slot.paper).title}"
    if slot.kind == Slot.Kind.INVITED and slot.talk_id:
        return f"Invited talk: {slot.talk.title} ({slot.talk.speaker})"
    if slot.kind == Slot.Kind.CHALLENGE and slot.challenge_id:
        return f"Challenge session: {slot.title or slot.challenge.title}"
    return slot.title or slot.get_kind_display()


def programme_calendar(*, workshop: Workshop) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//MAI workshop system//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{workshop.short_name} programme")
    calendar.add("x-wr-timezone", workshop.time_zone)
    url = absolute_url(f"/{workshop.slug}/programme/")
    for session in selectors.programme_sessions(workshop=workshop):
        for slot in session.slots.all():
            item = Event()
            item.add("uid", f"slot-{slot.pk}@{workshop.slug}.programme")
            item.add("summary", f"{workshop.short_name}: {slot_summary(slot)}")
            item.add("dtstart", slot.starts_at.astimezone(workshop.zone))
            item.add("dtend", slot.ends_at.astimezone(workshop.zone))
            item.add("dtstamp", slot.starts_at)
            room = slot.room or session.room
            if room:
                item.add("location", room)
            item.add("description", session.title)
            item.add("url", url)
            calendar.add_component(item)
    # RFC 5545 wants a VTIMEZONE for every TZID the events use (Outlook refuses the feed without it).
    calendar.add_missing_timezones()
    return calendar.to_ical()
