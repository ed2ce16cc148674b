"""A new edition from scratch: who may create one, what the creator becomes, the form's errors."""

import pytest
from django.test import Client

from conference.models import Membership, Workshop
from tests.html import text

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Mobile AI Workshop 2027",
    "short_name": "MAI 2027",
    "slug": "mai-2027",
    "host_conference": "CVPR 2027",
    "start_date": "2027-06-18",
    "end_date": "2027-06-18",
    "time_zone": "America/Los_Angeles",
}


def test_a_chair_creates_an_empty_edition_and_becomes_its_chair(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    response = client.post("/console/new/", FORM)
    assert response.status_code == 302 and response["Location"] == "/mai-2027/manage/"
    ws = Workshop.objects.get(slug="mai-2027")
    assert (ws.short_name, ws.time_zone, ws.topics.count(), ws.dates.count()) == (
        "MAI 2027",
        "America/Los_Angeles",
        0,
        0,
    )
    assert list(Membership.objects.filter(workshop=ws).values_list("user__email", "role")) == [
        ("chair@chairs.edu", "chair")
    ]


def test_the_form_refuses_a_taken_address_and_an_end_before_the_start(source):
    client = Client()
    client.force_login(source["users"]["superuser"])
    page = client.post("/console/new/", {**FORM, "slug": "mai-2021", "end_date": "2027-06-17"})
    errors = text(page, id="edition-new-form")
    assert "The address /mai-2021/ is already taken by another edition." in errors
    assert Workshop.objects.count() == 1
    page = client.post("/console/new/", {**FORM, "end_date": "2027-06-17"})
    assert "The workshop cannot end before it starts." in text(page, id="edition-new-form")
    page = client.post("/console/new/", {**FORM, "time_zone": "Mars/Olympus"})
    assert "Select a valid choice." in text(page, id="edition-new-form")
    assert Workshop.objects.count() == 1


def test_only_superusers_and_chairs_may_create_and_the_page_says_so(source):
    client = Client()
    client.force_login(source["users"]["organiser"])
    assert client.post("/console/new/", FORM).status_code == 403
    assert not Workshop.objects.filter(slug="mai-2027").exists()
    home = client.get("/console/")
    assert text(home, id="console-who-may-create") == (
        "Superusers and chairs of any edition may create editions; whoever creates one becomes its chair."
    )
    assert text(home, id="console-no-create").startswith("You chair no edition yet")
