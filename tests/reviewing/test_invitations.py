"""Committee invitations through the pages, as an invitee meets them: the link is bound to the invited
address and works once; a newcomer signs up with the address filled in, confirms it from the real
outbox mail and lands, logged in, in the reviewing area; someone else's account is refused."""

import re
import uuid
from html import unescape

import pytest
from django.test import Client

from conference.models import Membership, OutgoingMail
from conference.reviewing.domain.committee import invitation_create
from conference.reviewing.models import Invitation
from tests.factories import PASSWORD
from tests.html import text as html_text
from tests.reviewing.conftest import page_text

pytestmark = pytest.mark.django_db
BASE = "/rev-test/review"


def element(html: str, element_id: str) -> str:
    """The text of the element with this id (its whole content, tags dropped)."""
    shown = html_text(html, id=element_id)
    assert shown is not None, f"no #{element_id}"
    return shown


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture(autouse=True)
def own_cache(settings):
    """allauth rate-limits confirmation mails per address in the cache (a file cache shared by every
    test run on this checkout): each test gets an empty one of its own."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def invite(edition):
    return invitation_create(
        workshop=edition["workshop"], email="nina@new-uni.edu", name="Nina New", invited_by=edition["chair"]
    )


def link_of(invitation) -> str:
    mail = OutgoingMail.objects.get(to=[invitation.email], subject__contains="Invitation")
    return re.search(r"http://[^/\s]+(/\S+/invitation/\S+/)", mail.body).group(1)


def test_newcomer_signs_up_with_the_address_filled_in_and_lands_in_the_reviewing_area(invite):
    nina = Client()
    url = link_of(invite)
    response = nina.post(url, {"answer": "accept"}, follow=True)
    assert element(response.content.decode(), "invitation-state") == "Pending"
    signup = re.search(r'id="invitation-signup" href="([^"]+)"', response.content.decode()).group(1)
    signup = unescape(signup)
    assert signup == "/accounts/signup/?email=nina%40new-uni.edu&next=%2Frev-test%2Freview%2F"
    form = nina.get(signup).content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*value="nina@new-uni.edu"', form)
    response = nina.post(
        signup,
        {"email": "nina@new-uni.edu", "full_name": "Nina New", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user__email="nina@new-uni.edu").exists()  # not verified yet
    mail = OutgoingMail.objects.get(to=["nina@new-uni.edu"], subject__icontains="confirm")
    confirm = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.body).group(1)
    response = nina.post(confirm)
    assert response.status_code == 302 and response["Location"] == "/rev-test/review/"
    home = nina.get("/rev-test/review/")
    assert home.status_code == 200  # logged in: not the log-in page
    assert "Papers assigned to you" in page_text(home)
    assert any("Welcome to the RTW committee (reviewer)" in m for m in messages_of(home))
    membership = Membership.objects.get(workshop=invite.workshop, user__email="nina@new-uni.edu")
    assert membership.role == "reviewer"
    invite.refresh_from_db()
    assert (invite.state, invite.user_id) == ("accepted", membership.user_id)
    # The same link again, by anyone else: used.
    other = Client()
    text = element(other.get(url).content.decode(), "invitation-answer")
    assert text == "This invitation has already been used: each link works once."


def test_confirming_in_another_browser_leads_to_log_in_then_the_invitation(invite):
    started, elsewhere = Client(), Client()
    url = link_of(invite)
    html = started.post(url, {"answer": "accept"}, follow=True).content.decode()
    signup = unescape(re.search(r'id="invitation-signup" href="([^"]+)"', html).group(1))
    response = started.post(
        signup,
        {"email": "nina@new-uni.edu", "full_name": "Nina New", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    mail = OutgoingMail.objects.get(to=["nina@new-uni.edu"], subject__icontains="confirm")
    confirm = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.body).group(1)
    response = elsewhere.post(confirm)  # the mail opened on another device: no session to resume
    assert response["Location"] == f"/accounts/login/?next={url.replace('/', '%2F')}"
    assert Invitation.objects.get().state == "pending"
    response = elsewhere.post(response["Location"], {"login": "nina@new-uni.edu", "password": PASSWORD})
    assert response["Location"] == url
    assert elsewhere.post(url, {"answer": "accept"})["Location"] == "/rev-test/review/"
    assert Membership.objects.filter(user__email="nina@new-uni.edu", role="reviewer").exists()


def test_a_second_account_cannot_use_the_link(client, invite, make_user):
    mallory = make_user("mallory@evil.example")
    client.force_login(mallory)
    url = link_of(invite)
    html = client.get(url).content.decode()
    assert "but this invitation is for nina@new-uni.edu" in element(html, "invitation-answer")
    response = client.post(url, {"answer": "accept"}, follow=True)
    assert any(m.startswith("This invitation is for nina@new-uni.edu") for m in messages_of(response))
    assert not Membership.objects.filter(user=mallory).exists()
    assert Invitation.objects.get().state == "pending"
    nina = make_user("nina@new-uni.edu")
    client.force_login(nina)
    response = client.post(url, {"answer": "accept"})
    assert response["Location"] == "/rev-test/review/"
    client.force_login(mallory)
    response = client.post(url, {"answer": "accept"}, follow=True)
    assert "This invitation has already been used: each link works once." in messages_of(response)
    assert list(
        Membership.objects.filter(role="reviewer", user__in=[mallory, nina]).values_list("user", flat=True)
    ) == [nina.id]


def test_an_existing_account_logs_in_from_the_link_and_joins(invite, make_user, password):
    nina = make_user("nina@new-uni.edu")
    browser = Client()
    url = link_of(invite)
    html = browser.post(url, {"answer": "accept"}, follow=True).content.decode()
    login = unescape(re.search(r'id="invitation-login" href="([^"]+)"', html).group(1))
    response = browser.post(login, {"login": "nina@new-uni.edu", "password": password})
    assert response["Location"] == "/rev-test/review/"
    assert Membership.objects.filter(user=nina, role="reviewer").exists()


def test_the_invited_person_declines_without_an_account_and_the_link_says_so(client, invite):
    url = link_of(invite)
    client.post(url, {"answer": "decline"})
    html = client.get(url).content.decode()
    assert element(html, "invitation-state") == "Declined"
    assert element(html, "invitation-answer").startswith("This invitation was declined.")


def test_a_chair_revokes_a_pending_invitation_and_the_link_says_so(client, edition, invite):
    client.force_login(edition["chair"])
    response = client.post(f"{BASE}/committee/", {"action": "revoke", "invitation": invite.pk}, follow=True)
    assert "The invitation of nina@new-uni.edu was revoked: its link is dead." in messages_of(response)
    visitor = Client()
    html = visitor.get(link_of(invite)).content.decode()
    assert element(html, "invitation-state") == "Revoked"
    response = visitor.post(link_of(invite), {"answer": "decline"}, follow=True)
    assert any("withdrawn by the chairs" in m for m in messages_of(response))
    assert Invitation.objects.get().state == "revoked"
