"""Every console page as every role: no server error anywhere, and nobody reaches a page their role
should not (anonymous → log in; signed-in non-chairs → 403 on creating editions, 404 on an
edition's console, which does not exist for them). A crawl from the console's pages as each role
follows every link without a server error."""

import pytest
from django.http import HttpResponse
from django.test import Client

from conference.models import Membership
from console.models import RoleInvitation
from console.services import roles
from scripts.crawl import crawl
from tests.console.conftest import pacific
from tests.factories import MembershipFactory, WorkshopFactory
from tests.html import element, text

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "author", "reviewer", "participant", "organiser", "stranger", "chair", "superuser"]
MAY_MANAGE = {"chair", "superuser"}


def _pages(source) -> dict[str, list[str]]:
    invitation = roles.role_invitation_create(
        workshop=source["workshop"], email="new@chairs.edu", role=RoleInvitation.Role.CO_CHAIR
    )
    base = "/mai-2021/manage/"
    return {
        "home": ["/console/"],
        "create": ["/console/new/", "/console/clone/"],
        "manage": [
            base,
            f"{base}edit/cfp/",
            f"{base}edit/format/",
            f"{base}edit/policies/",
            f"{base}edit/venue/",
            f"{base}topics/",
            f"{base}organisers/",
            f"{base}dates/",
            f"{base}roles/",
            f"{base}roles/{invitation.pk}/revoke/",
            f"{base}mail/retry/",
        ],
        "invitation": [f"/console/invitations/{invitation.token}/"],
    }


def _client(source, role) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(source["users"][role])
    return client


def _expected(role: str, group: str) -> int:
    if group == "invitation":
        return 200  # the link is the credential to decline; accepting is checked by the service
    if role == "anonymous":
        return 302
    if group == "home":
        return 200
    if role in MAY_MANAGE:
        return 200
    return 403 if group == "create" else 404


@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_it_should(source, role):
    client = _client(source, role)
    answers = {}
    expected = {}
    for group, urls in _pages(source).items():
        for url in urls:
            response = client.get(url)
            answers[url] = response.status_code
            expected[url] = _expected(role, group)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), url
    assert answers == expected


class ConsoleOnly:
    """A client that lets the crawl follow only the console's own pages (the rest of the site has its
    crawl in tests/test_crawl.py); other links count as visited without being fetched."""

    def __init__(self, client):
        self.client = client
        self.fetched: list[str] = []

    def get(self, url):
        if not url.startswith(("/console/", "/mai-2021/manage/")):
            return HttpResponse(b"", content_type="text/plain")
        self.fetched.append(url)
        return self.client.get(url)


@pytest.mark.parametrize("role", ROLES)
def test_a_crawl_from_the_console_finds_no_server_error(source, role):
    client = ConsoleOnly(_client(source, role))
    starts = [url for urls in _pages(source).values() for url in urls] + ["/mai-2021/"]
    _, errors = crawl(client, starts, limit=300)
    assert errors == []
    assert len(set(client.fetched)) >= 14  # every console page above, and what they link to


@pytest.mark.parametrize("role", ROLES)
def test_only_chairs_see_the_console_in_the_navigation(source, role):
    page = _client(source, role).get("/mai-2021/")
    assert (element(page, id="nav-manage") is not None) == (role in MAY_MANAGE)
    assert (element(page, id="nav-console") is not None) == (role in MAY_MANAGE)


def test_a_chair_of_another_edition_can_do_nothing_to_this_one(source, make_user):
    """Bob chairs MAI 2022 only: MAI 2021's console answers 404 to every page and every POST, his own
    console refuses MAI 2021's invitations and tracks, and MAI 2021 is not offered for cloning."""
    ws = source["workshop"]
    bob = make_user("bob@other.edu", full_name="Bob Other")
    other = WorkshopFactory(slug="mai-2022", short_name="MAI 2022", name="Mobile AI Workshop 2022")
    MembershipFactory(workshop=other, user=bob, role=Membership.Role.CHAIR)
    invitation = roles.role_invitation_create(
        workshop=ws, email="new@chairs.edu", role=RoleInvitation.Role.CO_CHAIR
    )
    date = ws.dates.get(kind="paper_deadline")
    client = Client()
    client.force_login(bob)
    for url in _pages(source)["manage"] + ["/mai-2021/manage/remind/"]:
        assert (
            client.post(url, {"action": "confirm", "user": source["users"]["reviewer"].pk}).status_code == 404
        ), url
        assert client.get(url).status_code in (404, 405), url
    # Through his own edition's pages, with MAI 2021's ids.
    assert client.post(f"/mai-2022/manage/roles/{invitation.pk}/revoke/").status_code == 404
    page = client.post(
        "/mai-2022/manage/roles/",
        {"role": "challenge_organiser", "email": "bob2@other.edu", "challenge": source["track"].pk},
    )
    assert (
        element(page, id="role-invite-form")
        .find("ul", class_="errorlist")
        .text.startswith("Select a valid choice.")
    )
    page = client.post(
        "/mai-2022/manage/dates/",
        {
            "dates-TOTAL_FORMS": "1",
            "dates-INITIAL_FORMS": "0",
            "dates-0-pk": str(date.pk),
            "dates-0-kind": "paper_deadline",
            "dates-0-label": "",
            "dates-0-at": "2021-03-20T17:00",
        },
    )
    assert (
        text(page, id="dates-errors") == "Some dates were removed meanwhile by someone else: reload the page."
    )
    clone_form = client.get("/console/clone/")
    offered = [o.text for o in element(clone_form, "select", name="source").find_all("option")]
    assert offered == ["---------", "MAI 2022"]
    invitation.refresh_from_db()
    date.refresh_from_db()
    assert invitation.state == RoleInvitation.State.PENDING
    assert date.at == pacific(2021, 3, 15)
    assert not source["track"].organisers.filter(email="bob2@other.edu").exists()
    assert not RoleInvitation.objects.filter(workshop=other).exists()
