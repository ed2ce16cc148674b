"""The admin shows and takes a workshop's datetimes in the workshop's zone (not UTC)."""

import datetime as dt

import pytest
from django.test import Client

from challenges.models import Milestone, Registration
from conference.models import ImportantDate
from tests.html import element

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(source):
    client = Client()
    client.force_login(source["users"]["superuser"])
    return client


def test_17_00_typed_for_a_pacific_workshop_is_stored_as_the_next_day_in_utc(source, admin_client):
    date = ImportantDate.objects.get(workshop=source["workshop"], kind="paper_deadline")
    url = f"/admin/conference/importantdate/{date.pk}/change/"
    page = admin_client.get(url)
    # Shown in Pacific time: 5pm on the 15th, not 00:00 on the 16th.
    assert element(page, "input", name="at_0").attrs["value"] == "15/03/2021"
    assert element(page, "input", name="at_1").attrs["value"] == "17:00:00"
    help_text = element(page, "div", class_="field-at").find("div", class_="help").text
    assert help_text == "Shown and entered in the workshop's time zone, America/Los_Angeles."
    response = admin_client.post(
        url,
        {
            "workshop": source["workshop"].pk,
            "kind": "paper_deadline",
            "label": "",
            "at_0": "2021-12-01",
            "at_1": "17:00",
        },
    )
    assert response.status_code == 302
    date.refresh_from_db()
    assert date.at == dt.datetime(2021, 12, 2, 1, 0, tzinfo=dt.UTC)  # PST: UTC−8
    response = admin_client.post(
        url,
        {
            "workshop": source["workshop"].pk,
            "kind": "paper_deadline",
            "label": "",
            "at_0": "2021-06-01",
            "at_1": "17:00",
        },
    )
    date.refresh_from_db()
    assert date.at == dt.datetime(2021, 6, 2, 0, 0, tzinfo=dt.UTC)  # PDT: UTC−7


def test_an_added_date_is_read_in_the_chosen_workshops_zone(source, admin_client):
    admin_client.post(
        "/admin/conference/importantdate/add/",
        {
            "workshop": source["workshop"].pk,
            "kind": "workshop",
            "label": "",
            "at_0": "2021-06-25",
            "at_1": "17:00",
        },
    )
    assert ImportantDate.objects.get(kind="workshop").at == dt.datetime(2021, 6, 26, 0, 0, tzinfo=dt.UTC)


def test_milestones_inline_on_a_track_are_in_the_workshop_zone(source, admin_client):
    track = source["track"]
    page = admin_client.get(f"/admin/challenges/challenge/{track.pk}/change/")
    final = Milestone.objects.get(challenge=track, kind="final_deadline")
    index = list(track.milestones.order_by("at").values_list("pk", flat=True)).index(final.pk)
    assert element(page, "input", name=f"milestones-{index}-at_1").attrs["value"] == "17:00:00"
    assert element(page, "input", name=f"milestones-{index}-at_0").attrs["value"] == "20/03/2021"


def test_the_change_list_shows_each_date_in_its_workshops_zone(source, admin_client):
    page = admin_client.get("/admin/conference/importantdate/")
    cells = [
        td.text for td in element(page, id="result_list").find_all("td", class_="field-at_in_workshop_zone")
    ]
    assert sorted(cells) == sorted(
        [
            "Fri 15 January 2021, 5pm Pacific Time (PST)",
            "Mon 15 March 2021, 5pm Pacific Time (PDT)",
            "Fri 2 April 2021, 5pm Pacific Time (PDT)",
            "Mon 5 April 2021, 5pm Pacific Time (PDT)",
            "Thu 15 April 2021, 5pm Pacific Time (PDT)",
        ]
    )


def test_the_review_deadline_is_shown_and_entered_in_the_workshop_zone(source, admin_client):
    settings_row = source["workshop"].review_settings
    url = f"/admin/reviewing/reviewsettings/{settings_row.pk}/change/"
    page = admin_client.get(url)
    assert element(page, "input", name="review_deadline_0").attrs["value"] == "30/03/2021"
    assert element(page, "input", name="review_deadline_1").attrs["value"] == "17:00:00"
    help_text = element(page, "div", class_="field-review_deadline").find("div", class_="help").text
    assert help_text == "Shown and entered in the workshop's time zone, America/Los_Angeles."
    listing = admin_client.get("/admin/reviewing/reviewsettings/")
    cell = element(listing, id="result_list").find("td", class_="field-review_deadline_in_workshop_zone")
    assert cell.text == "Tue 30 March 2021, 5pm Pacific Time (PDT)"


def test_a_registration_added_for_a_track_is_read_in_its_workshops_zone(source, admin_client):
    """The zone is found through the posted track (challenge → workshop), not taken as UTC."""
    page = admin_client.get("/admin/challenges/registration/add/")
    help_text = element(page, "div", class_="field-accepted_terms_at").find("div", class_="help").text
    assert help_text.startswith("Entered in the time zone of the workshop this belongs to")
    response = admin_client.post(
        "/admin/challenges/registration/add/",
        {
            "challenge": source["track"].pk,
            "user": source["users"]["stranger"].pk,
            "accepted_terms_at_0": "2021-06-01",
            "accepted_terms_at_1": "17:00",
            "approved_at_0": "",
            "approved_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    registration = Registration.objects.get(user=source["users"]["stranger"])
    assert registration.accepted_terms_at == dt.datetime(2021, 6, 2, 0, 0, tzinfo=dt.UTC)  # PDT: UTC−7
