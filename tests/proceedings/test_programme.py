"""The programme: slots overlapping in one room refused with a clear message (nothing stored), the
public page in the workshop's zone with the viewer's local time beside, paper talks under their
confirmed camera-ready title and authors, challenge sessions naming the
winners only to those who may see the final leaderboard, and the iCalendar feed parsed back."""

import datetime as dt

import pytest
from django.utils import timezone
from icalendar import Calendar

from conference.cameraready.models import CameraReady
from conference.proceedings import services
from conference.proceedings.models import Slot
from tests import html
from tests.factories import CodeSubmissionFactory, FactSheetFactory
from tests.finalphase.conftest import make_team, measured, set_milestones
from tests.proceedings.conftest import pacific


def test_a_slot_overlapping_another_in_the_same_room_is_refused(edition, programme, accepted):
    first, second = programme
    with pytest.raises(services.ProceedingsRefused) as refused:
        services.slot_save(
            session=second, kind="break", starts_at=pacific(10, 40), ends_at=pacific(11), title="Lunch"
        )
    assert refused.value.message == (
        "This slot (Fri 25 June 2021, 10:40am–11am) overlaps “Coffee break” (Fri 25 June 2021, 10:30am–10:45am) "
        "in room Room A. Choose another time or room."
    )
    assert not Slot.objects.filter(title="Lunch").exists()
    # Touching is not overlapping; another room at the same time is fine.
    services.slot_save(
        session=second, kind="break", starts_at=pacific(11, 15), ends_at=pacific(11, 30), title="Lunch"
    )
    services.slot_save(
        session=second,
        kind="break",
        starts_at=pacific(10, 40),
        ends_at=pacific(11),
        title="Poster hall",
        room="Hall B",
    )
    assert Slot.objects.filter(session=second).count() == 4


def test_slot_rules_have_clear_messages(edition, programme, accepted):
    first, _ = programme
    cases = [
        (
            {"kind": "break", "starts_at": pacific(9, 30), "ends_at": pacific(10, 30)},
            "The slot must lie within its session “Session 1: Efficient models” (Fri 25 June 2021, 8am–10am).",
        ),
        (
            {"kind": "paper", "starts_at": pacific(9), "ends_at": pacific(9, 30)},
            "Choose the accepted paper presented in this talk.",
        ),
        (
            {"kind": "paper", "starts_at": pacific(9), "ends_at": pacific(9, 30), "paper": accepted[0]},
            "Paper #1 already has a talk (Fri 25 June 2021, 8:30am–9am, “Session 1: Efficient models”).",
        ),
        (
            {"kind": "break", "starts_at": pacific(9, 30), "ends_at": pacific(9)},
            "The end time must be after the start time.",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(services.ProceedingsRefused) as refused:
            services.slot_save(session=first, **kwargs)
        assert refused.value.message == message
    assert Slot.objects.filter(session=first).count() == 2


def test_chair_adds_an_overlapping_slot_through_the_form_and_reads_why(client, edition, chair, programme):
    client.force_login(chair)
    _, second = programme
    response = client.post(
        f"/mai-proc/proceedings/programme/sessions/{second.pk}/",
        {
            "form": "slot",
            "kind": "break",
            "starts_at": "2021-06-25T10:40",
            "ends_at": "2021-06-25T11:00",
            "title": "Lunch",
        },
    )
    assert response.status_code == 200
    assert html.text(response, data_testid="form-errors") == (
        "This slot (Fri 25 June 2021, 10:40am–11am) overlaps “Coffee break” (Fri 25 June 2021, 10:30am–10:45am) "
        "in room Room A. Choose another time or room."
    )
    assert not Slot.objects.filter(title="Lunch").exists()


def test_public_programme_in_the_workshops_zone_with_local_time(client, edition, programme, accepted):
    response = client.get("/mai-proc/programme/")
    first, second = programme
    session_time = html.element(response, data_testid=f"session-time-{first.pk}")
    assert session_time.text.startswith("Fri 25 June 2021, 8am Pacific Time (PDT)")
    local = session_time.find(class_="local-time")
    assert local.attrs["data-utc"] == "2021-06-25T15:00:00Z"  # filled in by localtime.js in the browser
    slots = html.element(response, id=f"session-{second.pk}").find_all("li", class_="slot")
    assert [s.find("p", class_="slot-title").text for s in slots] == [
        "Coffee break",
        "Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 Challenge: Report",
    ]
    talk = second.slots.get(kind="paper")
    assert html.text(response, data_testid=f"paper-authors-{talk.pk}") == "Jörg Müller, Alex Author"


def test_a_paper_talk_shows_the_confirmed_camera_ready_title_and_authors(client, programme, accepted):
    CameraReady.objects.filter(paper=accepted[1]).update(
        title="Fast Image Denoising on Mobile GPUs",
        abstract="Final abstract.",
        authors=[{"name": "Jörg Müller", "affiliation": "TU München", "email": "jorg@tum.example"}],
        metadata_confirmed_at=timezone.now(),
    )
    talk = Slot.objects.get(paper=accepted[1])
    slot = html.element(client.get("/mai-proc/programme/"), data_testid=f"slot-{talk.pk}")
    assert slot.find("p", class_="slot-title").text == "Fast Image Denoising on Mobile GPUs"
    assert html.text(slot, data_testid=f"paper-authors-{talk.pk}") == "Jörg Müller"


def test_challenge_session_names_winners_only_to_who_may_see_the_leaderboard(
    client, edition, chair, make_user
):
    challenge = edition.challenges.get(slug="isp")
    challenge.metrics = [{"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2}]
    challenge.save()
    now = dt.datetime.now(dt.UTC)
    set_milestones(
        challenge,
        website_online=-30,
        train_data=-29,
        validation_server=-28,
        test_data=-10,
        final_deadline=-5,
        factsheet_deadline=-4,
        preliminary_results=-3,
        challenge_papers=1,
    )
    for name, psnr in (("Team Alpha", 23.0), ("Team Beta", 24.0)):
        team = make_team(challenge, name, make_user(email=f"{name.split()[1].lower()}@teams.example"))
        measured(challenge, team, psnr=psnr, runtime_ms=10.0, created_at=now - dt.timedelta(days=6))
        FactSheetFactory(team=team)
        CodeSubmissionFactory(team=team)
    session = services.session_save(
        workshop=edition,
        title="Challenge results",
        room="Room A",
        chair_name="",
        starts_at=pacific(13),
        ends_at=pacific(14),
    )
    slot = services.slot_save(
        session=session, kind="challenge", starts_at=pacific(13), ends_at=pacific(13, 30), challenge=challenge
    )
    # A visitor: the final leaderboard is not public (the organisers did not publish it after the workshop).
    assert html.text(client.get("/mai-proc/programme/"), data_testid=f"winners-{slot.pk}") == (
        "Winners announced at the session."
    )
    client.force_login(chair)
    winners = html.element(client.get("/mai-proc/programme/"), data_testid=f"winners-{slot.pk}")
    assert [li.text for li in winners.find_all("li")] == ["Team Beta", "Team Alpha"]


def test_icalendar_feed_parses_back(client, edition, programme):
    response = client.get("/mai-proc/programme.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [str(e["summary"]) for e in events] == [
        "MAI 2021: Paper talk: Quantized Super-Resolution & Its 8-bit Friends",
        "MAI 2021: Paper talk: Real-Time Learned ISP for Smartphone Cameras",
        "MAI 2021: Coffee break",
        "MAI 2021: Paper talk: Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 "
        "Challenge: Report",
    ]
    first = events[0]
    assert first.decoded("dtstart") == pacific(8)
    assert first.decoded("dtend") == pacific(8, 30)
    assert str(first.decoded("dtstart").tzinfo) == "America/Los_Angeles"
    assert str(first["location"]) == "Room A"
    assert str(first["description"]) == "Session 1: Efficient models"
