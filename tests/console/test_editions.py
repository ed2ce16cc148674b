"""A new edition from scratch: who may create one, what the creator becomes, the form's errors."""

import pytest
from django.test import Client

from conference.models import Membership, Workshop
from tests.html import element, text

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


def _errors(page, form_id: str) -> list[str]:
    return [ul.text for ul in element(page, id=form_id).find_all("ul", class_="errorlist")]


def test_an_address_of_the_site_or_a_short_name_in_use_is_refused_everywhere(source):
    """/admin/, /accounts/, /console/… would hide the edition; two editions with one short name would
    share the "[short name]" of their mails (and their outbox on the dashboard)."""
    client = Client()
    client.force_login(source["users"]["chair"])
    for slug in ("admin", "accounts", "api", "console", "static"):
        page = client.post("/console/new/", {**FORM, "slug": slug})
        assert _errors(page, "edition-new-form") == [
            f"The address /{slug}/ is used by the site itself: choose another one."
        ]
    page = client.post("/console/new/", {**FORM, "short_name": "mai 2021"})
    assert _errors(page, "edition-new-form") == ["Another edition is already called “mai 2021”."]
    clone = {
        "source": source["workshop"].pk,
        "name": "Mobile AI Workshop 2022",
        "short_name": "MAI 2021",
        "slug": "admin",
        "day_offset": "364",
    }
    page = client.post("/console/clone/", clone)
    assert _errors(page, "edition-clone-form") == [
        "Another edition is already called “MAI 2021”.",
        "The address /admin/ is used by the site itself: choose another one.",
    ]
    assert Workshop.objects.count() == 1
    # Renaming an edition to another's short name, from its call-for-papers page.
    client.post("/console/new/", FORM)
    ws = Workshop.objects.get(slug="mai-2027")
    page = client.post(
        "/mai-2027/manage/edit/cfp/", {"name": ws.name, "short_name": "MAI 2021", "call_for_papers": ""}
    )
    assert _errors(page, "edit-cfp-form") == ["Another edition is already called “MAI 2021”."]
    ws.refresh_from_db()
    assert ws.short_name == "MAI 2027"


def test_a_topic_too_long_is_refused_with_its_line(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    page = client.post(
        "/mai-2021/manage/topics/",
        {"topics": "Quantization\nSuper-resolution\nDepth estimation\n" + "x" * 201},
    )
    assert _errors(page, "topics-form") == ["A topic has at most 200 characters: shorten line(s) 4."]
    assert source["workshop"].topics.count() == 3
