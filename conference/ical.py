"""The iCalendar feed of a workshop's dates (every deadline, papers and challenges)."""

from datetime import timedelta

from icalendar import Calendar, Event

from common.urls import absolute_url

from .models import Workshop
from .selectors import workshop_dates


def workshop_calendar(*, workshop: Workshop) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//MAI workshop system//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{workshop.short_name} important dates")
    calendar.add("x-wr-timezone", workshop.time_zone)
    for event in workshop_dates(workshop=workshop):
        item = Event()
        item.add("uid", event.uid)
        item.add(
            "summary",
            f"{workshop.short_name}: {event.title}"
            + ("" if event.category == "Papers" else f" ({event.category})"),
        )
        start = event.at.astimezone(workshop.zone)
        item.add("dtstart", start)
        item.add("dtend", start + timedelta(minutes=30))
        item.add("dtstamp", event.at)
        item.add("url", absolute_url(workshop.get_absolute_url()))
        calendar.add_component(item)
    return calendar.to_ical()
