"""Public pages of a workshop edition, the seed, time display and the iCalendar feed."""

import datetime as dt
import io
import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from conference.models import ImportantDate, Topic, Workshop

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_seed_creates_mai_2021_as_it_was(seeded):
    mai = seeded["mai-2021"]
    assert mai.host_conference == "CVPR 2021"
    assert mai.topics.count() == 18
    assert [o.name for o in mai.organisers.all()] == ["Andrey Ignatov", "Radu Timofte"]
    deadline = mai.dates.get(kind=ImportantDate.Kind.PAPER_DEADLINE).at
    pacific = deadline.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert (pacific.month, pacific.day, pacific.hour) == (3, 15, 17)
    assert mai.challenges.count() == 6


def test_seed_is_idempotent_and_keeps_user_changes(seeded):
    mai = seeded["mai-2021"]
    mai.name = "Renamed by the chair"
    mai.save()
    Topic.objects.filter(workshop=mai).first().delete()
    call_command("seed_demo", stdout=io.StringIO())
    mai.refresh_from_db()
    assert mai.name == "Renamed by the chair"
    assert mai.topics.count() == 17
    assert Workshop.objects.filter(slug="mai-2021").count() == 1


def test_live_edition_is_dated_relative_to_today(seeded):
    live = seeded["mai-live"]
    opens = live.dates.get(kind=ImportantDate.Kind.SUBMISSION_OPEN).at
    closes = live.dates.get(kind=ImportantDate.Kind.PAPER_DEADLINE).at
    assert opens < timezone.now() < closes


def test_public_pages_render(client, seeded):
    for url in [
        "/",
        "/mai-2021/",
        "/mai-2021/call-for-papers/",
        "/mai-2021/dates/",
        "/mai-2021/organisers/",
        "/mai-2021/challenges/",
    ]:
        assert client.get(url).status_code == 200, url
    cfp = text(client.get("/mai-2021/call-for-papers/"))
    assert "Depth estimation w/o multiple cameras" in cfp
    assert "at most 8 pages excluding references" in cfp
    assert "double-blind" in cfp
    assert "CVPR 2021 main conference" in cfp
    organisers = text(client.get("/mai-2021/organisers/"))
    assert "Radu Timofte" in organisers and "Computer Vision Lab, ETH Zurich" in organisers


def test_unknown_edition_is_404(client, seeded):
    assert client.get("/mai-1999/dates/").status_code == 404


def test_dates_page_shows_pacific_time_and_local_time_hook(client, seeded):
    page = text(client.get("/mai-2021/dates/"))
    assert "Paper submission deadline" in page
    assert "Mon 15 March 2021, 5pm Pacific Time (PDT)" in page
    # the viewer's local time is rendered from the UTC instant next to it
    assert 'data-utc="2021-03-16T00:00:00Z"' in page
    # challenge milestones shared by all six tracks are listed once
    assert page.count("Fact sheets/codes submission deadline") == 1
    assert "Thu 7 January 2021, 5pm Pacific Time (PST)" in page


def test_several_editions_side_by_side(client, seeded):
    assert "MAI Live" in text(client.get("/mai-live/"))
    assert "MAI 2021" in text(client.get("/mai-2021/"))
    home = text(client.get("/"))
    assert "Mobile AI Workshop 2021" in home and "live demo edition" in home


def test_ical_feed_has_every_deadline_in_the_workshop_zone(client, seeded):
    response = client.get("/mai-2021/dates.ics")
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e.decoded("dtstart") for e in calendar.walk("VEVENT")}
    start = events["MAI 2021: Paper submission deadline"]
    assert start == dt.datetime(2021, 3, 15, 17, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert any("Challenges" in s and "Website online" in s for s in events)
    assert len(events) == 5 + 7


def test_invalid_time_zone_is_refused():
    ws = Workshop(
        slug="x",
        name="X",
        short_name="X",
        host_conference="Y",
        start_date=dt.date(2030, 1, 1),
        end_date=dt.date(2030, 1, 1),
        time_zone="Mars/Olympus",
    )
    with pytest.raises(ValidationError, match="time zone"):
        ws.full_clean()


def test_header_shows_login_state(client, make_user, password, seeded):
    assert "Log in" in text(client.get("/"))
    user = make_user(email="someone@example.org")
    client.login(username=user.email, password=password)
    page = text(client.get("/"))
    assert "Signed in as <strong>someone@example.org</strong>" in page
