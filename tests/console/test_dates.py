"""The important dates editor: entered in the workshop's zone, order checked with clear errors, a
moved published date confirmed first and logged, the review deadline kept in step with reviewing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from conference.models import ImportantDate
from conference.reviewing.models import ReviewSettings
from console.models import DateChangeLog
from console.services import dates as date_services
from tests.console.conftest import pacific
from tests.html import element, text

pytestmark = pytest.mark.django_db

URL = "/mai-2021/manage/dates/"


def _form(workshop, changes=None, new=()):
    """The editor's POST as a browser sends it: every saved date (as shown), `changes` by kind, then
    the new rows."""
    changes = changes or {}
    data, rows = {}, []
    for d in ImportantDate.objects.filter(workshop=workshop).order_by("at", "id"):
        local = d.at.astimezone(workshop.zone).strftime("%Y-%m-%dT%H:%M")
        rows.append(
            {"pk": str(d.pk), "kind": d.kind, "label": d.label, "at": local, **changes.get(d.kind, {})}
        )
    rows += [{"pk": "", "kind": kind, "label": "", "at": at} for kind, at in new]
    rows += [{"pk": "", "kind": "", "label": "", "at": ""}]  # an untouched new row
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "remove":
                if value:
                    data[f"dates-{i}-remove"] = "on"
            else:
                data[f"dates-{i}-{key}"] = value
    data.update({"dates-TOTAL_FORMS": str(len(rows)), "dates-INITIAL_FORMS": "0"})
    return data


@pytest.fixture
def chair_client(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    return client


def test_the_editor_shows_each_date_in_the_workshop_zone_with_the_local_time_beside(source, chair_client):
    page = chair_client.get(URL)
    deadline = ImportantDate.objects.get(workshop=source["workshop"], kind="paper_deadline")
    assert element(page, "input", name="dates-1-at").attrs["value"] == "2021-03-15T17:00"
    saved = element(page, **{"data-testid": f"date-saved-{deadline.pk}"})
    assert saved.text == "Now: Mon 15 March 2021, 5pm Pacific Time (PDT)"
    assert saved.find("span", **{"class": "local-time"}).attrs["data-utc"] == "2021-03-16T00:00:00Z"
    assert "America/Los_Angeles" in text(page, id="dates-zone")


def test_order_is_checked_with_errors_naming_both_dates(source, chair_client):
    ws = source["workshop"]
    # Decisions before the paper deadline; camera-ready before the decisions.
    page = chair_client.post(
        URL,
        _form(ws, {"notification": {"at": "2021-03-10T17:00"}, "camera_ready": {"at": "2021-03-01T12:00"}}),
    )
    errors = [p.text for p in element(page, id="dates-errors").find_all("p")]
    assert errors == [
        "Paper decision notification (Wed 10 March 2021, 5pm Pacific Time (PST)) must be after Paper submission "
        "deadline (Mon 15 March 2021, 5pm Pacific Time (PDT)): decisions come after submission.",
        "Paper decision notification (Wed 10 March 2021, 5pm Pacific Time (PST)) must be after Challenge paper "
        "submission deadline (Fri 2 April 2021, 5pm Pacific Time (PDT)): decisions come after submission.",
        "Camera-ready deadline (Mon 1 March 2021, 12pm Pacific Time (PST)) must be after Paper decision "
        "notification (Wed 10 March 2021, 5pm Pacific Time (PST)): the camera-ready version comes after the decisions.",
    ]
    # Nothing was stored.
    assert ws.dates.get(kind="notification").at == pacific(2021, 4, 5)
    assert not DateChangeLog.objects.exists()


def test_review_deadline_must_follow_submission_and_precede_decisions(source):
    ws = source["workshop"]
    rows = [date_services.PlannedDate(pk=None, kind="review_deadline", label="", at=pacific(2021, 3, 1))]
    with pytest.raises(ValidationError) as refused:
        date_services.dates_plan(workshop=ws, rows=rows)
    assert refused.value.messages == [
        "Review deadline (Mon 1 March 2021, 5pm Pacific Time (PST)) must be after Paper submission deadline "
        "(Mon 15 March 2021, 5pm Pacific Time (PDT)): reviews come after submission."
    ]
    rows = [date_services.PlannedDate(pk=None, kind="review_deadline", label="", at=pacific(2021, 4, 6))]
    with pytest.raises(ValidationError) as refused:
        date_services.dates_plan(workshop=ws, rows=rows)
    assert refused.value.messages[0].endswith("decisions come after the reviews.")
    rows = [date_services.PlannedDate(pk=None, kind="paper_deadline", label="", at=pacific(2021, 3, 16))]
    with pytest.raises(ValidationError) as refused:
        date_services.dates_plan(workshop=ws, rows=rows)
    assert refused.value.messages == [
        "“Paper submission deadline” is set 2 times: keep one (use “Other” for extra dates)."
    ]


def test_moving_a_published_deadline_needs_confirmation_and_is_logged(source, chair_client):
    ws = source["workshop"]
    chair = source["users"]["chair"]
    # The chair moves the paper deadline to 5pm Pacific a week later and adds a review deadline.
    page = chair_client.post(
        URL,
        _form(
            ws, {"paper_deadline": {"at": "2021-03-22T17:00"}}, new=[("review_deadline", "2021-03-30T23:59")]
        ),
    )
    assert page.status_code == 200
    assert text(page, id="dates-moved") == "1"
    assert text(page, id="dates-added") == "1"
    assert element(page, id="dates-changes").rows() == [
        ["Date", "Was", "Will be"],
        [
            "Paper submission deadline",
            "Mon 15 March 2021, 5pm Pacific Time (PDT)",
            "Mon 22 March 2021, 5pm Pacific Time (PDT)",
        ],
    ]
    # Not stored before the confirmation.
    assert ws.dates.get(kind="paper_deadline").at == pacific(2021, 3, 15)
    assert not ws.dates.filter(kind="review_deadline").exists()
    payload = element(page, "input", name="payload").attrs["value"]
    done = chair_client.post(URL, {"action": "confirm", "payload": payload})
    assert done.status_code == 302
    moved = ws.dates.get(kind="paper_deadline")
    assert moved.at == dt.datetime(2021, 3, 23, 0, 0, tzinfo=dt.UTC)  # 5pm PDT is 00:00 UTC the next day
    assert ws.dates.get(kind="review_deadline").at == dt.datetime(2021, 3, 31, 6, 59, tzinfo=dt.UTC)
    log = DateChangeLog.objects.get()
    assert (log.workshop, log.important_date, log.title, log.changed_by) == (
        ws,
        moved,
        "Paper submission deadline",
        chair,
    )
    assert (log.old_at, log.new_at) == (pacific(2021, 3, 15), pacific(2021, 3, 22))
    # Reviewing's deadline (reminders, late reviewers) follows the new review deadline.
    assert ReviewSettings.objects.get(workshop=ws).review_deadline == pacific(2021, 3, 30, 23, 59)
    # The log is on the editor.
    rows = element(chair_client.get(URL), id="date-log").rows()
    assert rows[1][:4] == [
        "Paper submission deadline",
        "Mon 15 March 2021, 5pm Pacific Time (PDT)",
        "Mon 22 March 2021, 5pm Pacific Time (PDT)",
        "chair@chairs.edu",
    ]
    # The same confirmation again is stale: nothing changes twice.
    again = chair_client.post(URL, {"action": "confirm", "payload": payload}, follow=True)
    assert "changed by someone else" in text(again, "div", **{"class": "messages"})
    assert DateChangeLog.objects.count() == 1


def test_adding_dates_needs_no_confirmation_and_removing_one_does(source, chair_client):
    ws = source["workshop"]
    done = chair_client.post(URL, _form(ws, new=[("workshop", "2021-06-25T08:00")]))
    assert done.status_code == 302
    assert ws.dates.get(kind="workshop").at == pacific(2021, 6, 25, 8)
    assert not DateChangeLog.objects.exists()
    page = chair_client.post(URL, _form(ws, {"workshop": {"remove": True}}))
    assert text(page, id="dates-moved") == "1"
    assert element(page, id="dates-changes").rows()[1][2] == "removed"
    chair_client.post(
        URL, {"action": "confirm", "payload": element(page, "input", name="payload").attrs["value"]}
    )
    assert not ws.dates.filter(kind="workshop").exists()
    assert DateChangeLog.objects.get().new_at is None


def test_the_service_refuses_an_unconfirmed_move(source):
    ws = source["workshop"]
    deadline = ws.dates.get(kind="paper_deadline")
    plan = date_services.dates_plan(
        workshop=ws,
        rows=[
            date_services.PlannedDate(
                pk=deadline.pk, kind="paper_deadline", label="", at=pacific(2021, 3, 16)
            )
        ],
    )
    with pytest.raises(ValidationError, match="needs your confirmation"):
        date_services.dates_apply(workshop=ws, plan=plan, by=source["users"]["chair"], confirmed=False)
    deadline.refresh_from_db()
    assert deadline.at == pacific(2021, 3, 15)


def test_a_time_that_does_not_exist_in_the_zone_is_refused(source, chair_client):
    ws = source["workshop"]
    # 14 March 2021, 2:30am did not exist in Los Angeles (clocks jumped from 2am to 3am).
    page = chair_client.post(URL, _form(ws, new=[("other", "2021-03-14T02:30")]))
    assert text(element(page, id="date-row-5"), "ul", class_="errorlist") == (
        "There is no 2:30am on Sun 14 March 2021 in America/Los_Angeles: the clocks go forward an hour "
        "that night. Choose a time outside that hour."
    )
    assert ws.dates.count() == 5


def test_a_time_the_clocks_show_twice_is_refused_with_its_reason(source, chair_client):
    ws = source["workshop"]
    # 7 November 2021, 1:30am happened twice in Los Angeles (clocks went back from 2am to 1am).
    page = chair_client.post(URL, _form(ws, new=[("other", "2021-11-07T01:30")]))
    assert text(element(page, id="date-row-5"), "ul", class_="errorlist") == (
        "1:30am on Sun 7 November 2021 happens twice in America/Los_Angeles: the clocks go back an hour "
        "that night. Choose a time outside that hour."
    )
    assert ws.dates.count() == 5


def test_a_new_row_with_a_kind_but_no_time_or_a_time_but_no_kind_is_refused(source, chair_client):
    ws = source["workshop"]
    page = chair_client.post(URL, _form(ws, new=[("review_deadline", "")]))
    assert text(element(page, id="date-row-5"), "ul", class_="errorlist") == (
        "Enter the date and time of this new date (or set its kind back to “— choose —”)."
    )
    page = chair_client.post(URL, _form(ws, new=[("", "2021-03-30T17:00")]))
    assert text(element(page, id="date-row-5"), "ul", class_="errorlist") == "Choose what this date is."
    assert text(page, id="dates-rows-invalid") == (
        "Nothing was saved: 1 entry needs your attention in the rows marked below."
    )
    assert ws.dates.count() == 5
    # An untouched new row offers no kind: it is not taken for a date.
    page = chair_client.get(URL)
    assert element(page, "select", id="id_dates-5-kind").find("option", selected="").text == "— choose —"
