"""Role invitations: single use, bound to the invited address (a verified copy of it), each role
granted as it should be, revocation through a confirmation page."""

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.test import Client

from conference.models import Membership, OutgoingMail
from console.models import RoleInvitation
from console.services import roles
from tests.html import element, text

pytestmark = pytest.mark.django_db


def _invite(source, email, role, **target):
    return roles.role_invitation_create(
        workshop=source["workshop"], email=email, role=role, invited_by=source["users"]["chair"], **target
    )


def _answer(client, invitation, answer):
    return client.post(f"/console/invitations/{invitation.token}/", {"answer": answer}, follow=True)


def test_a_co_chair_invitation_is_accepted_once_by_the_invited_address_only(source, make_user):
    invitation = _invite(source, "Newchair@Chairs.edu", RoleInvitation.Role.CO_CHAIR)
    mail = OutgoingMail.objects.get(to=["newchair@chairs.edu"])
    assert mail.subject == "[MAI 2021] Invitation: Co-chair of MAI 2021"
    assert f"/console/invitations/{invitation.token}/" in mail.body

    # Someone else who got the link cannot accept it…
    stranger = Client()
    stranger.force_login(source["users"]["stranger"])
    page = _answer(stranger, invitation, "accept")
    assert text(page, "div", **{"class": "messages"}).startswith("This invitation is for newchair@chairs.edu")
    # …nor can the right address while it is unverified.
    invitee = make_user("newchair@chairs.edu", full_name="Nina Newchair")
    EmailAddress.objects.filter(user=invitee).update(verified=False)
    client = Client()
    client.force_login(invitee)
    _answer(client, invitation, "accept")
    assert not Membership.objects.filter(user=invitee).exists()

    EmailAddress.objects.filter(user=invitee).update(verified=True)
    page = _answer(client, invitation, "accept")
    assert page.redirect_chain[-1][0] == "/mai-2021/manage/"
    assert Membership.objects.filter(workshop=source["workshop"], user=invitee, role="chair").exists()
    invitation.refresh_from_db()
    assert (invitation.state, invitation.user) == ("accepted", invitee)
    # Single use: a second answer, by anyone, is refused and changes nothing.
    page = _answer(stranger, invitation, "accept")
    assert (
        text(page, "div", **{"class": "messages"})
        == "This invitation has already been used: each link works once."
    )
    page = _answer(stranger, invitation, "decline")
    invitation.refresh_from_db()
    assert invitation.state == "accepted"


def test_an_organiser_invitation_adds_the_user_to_the_track(source, make_user):
    track = source["track"]
    invitation = _invite(
        source, "otto@organisers.edu", RoleInvitation.Role.CHALLENGE_ORGANISER, challenge=track
    )
    otto = make_user("otto@organisers.edu")
    roles.role_invitation_respond(invitation=invitation, accept=True, user=otto)
    assert set(track.organisers.values_list("email", flat=True)) == {
        "olga@organisers.edu",
        "otto@organisers.edu",
    }
    assert not Membership.objects.filter(user=otto).exists()  # an organiser is not a chair


def test_a_device_operator_invitation_adds_the_user_to_the_host(source, make_user):
    host = source["host"]
    invitation = _invite(source, "dora@lab.edu", RoleInvitation.Role.DEVICE_OPERATOR, device_host=host)
    dora = make_user("dora@lab.edu")
    client = Client()
    client.force_login(dora)
    page = _answer(client, invitation, "accept")
    assert page.redirect_chain[-1][0] == "/evaluation/lab/"
    assert list(host.operators.all()) == [dora]


def test_a_chair_cannot_make_anyone_operator_of_a_host_another_edition_measures_on(source):
    """Pointing a track at another edition's device does not hand its host to this edition's chairs:
    the roles page stops offering it and the service refuses it; a superuser still may."""
    from challenges.finalphase.models import FinalPhaseSettings
    from tests.factories import ChallengeFactory, UserFactory, WorkshopFactory

    client = Client()
    client.force_login(source["users"]["chair"])

    def offered():
        page = client.get("/mai-2021/manage/roles/")
        return [o.text for o in element(page, id="role-invite-form").find_all("option")]

    assert "lab-phones" in offered()
    other_track = ChallengeFactory(workshop=WorkshopFactory(slug="mai-2022", short_name="MAI 2022"))
    FinalPhaseSettings.objects.create(challenge=other_track, device_slug="dimensity-1000")
    assert "lab-phones" not in offered()
    with pytest.raises(ValidationError, match="ask a site administrator"):
        _invite(source, "eve@x.edu", RoleInvitation.Role.DEVICE_OPERATOR, device_host=source["host"])
    assert not RoleInvitation.objects.exists()
    admin = UserFactory(is_superuser=True)
    roles.role_invitation_create(
        workshop=source["workshop"],
        email="op@lab.edu",
        role=RoleInvitation.Role.DEVICE_OPERATOR,
        device_host=source["host"],
        invited_by=admin,
    )
    assert RoleInvitation.objects.get().device_host == source["host"]


def test_anyone_with_the_link_may_decline_and_then_it_is_dead(source, make_user):
    invitation = _invite(source, "dan@x.edu", RoleInvitation.Role.CO_CHAIR)
    # Signed out, the link offers to decline; accepting needs an account (log in or sign up first).
    page = Client().get(f"/console/invitations/{invitation.token}/")
    assert element(page, id="invitation-accept") is None
    assert element(page, id="invitation-decline").text == "Decline"
    page = _answer(Client(), invitation, "decline")
    assert text(page, id="invitation-state") == "State: Declined."
    dan = make_user("dan@x.edu")
    client = Client()
    client.force_login(dan)
    page = _answer(client, invitation, "accept")
    assert (
        text(page, "div", **{"class": "messages"})
        == "This invitation was declined; ask the chairs for a new one."
    )
    assert not Membership.objects.filter(user=dan).exists()
    # Inviting again makes a new link; the old one stays dead.
    again = _invite(source, "dan@x.edu", RoleInvitation.Role.CO_CHAIR)
    assert again.pk != invitation.pk and again.token != invitation.token


def test_chairs_invite_from_the_roles_page_and_revoke_through_a_confirmation(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    page = client.post("/mai-2021/manage/roles/", {"role": "challenge_organiser", "email": "tia@x.edu"})
    assert "Choose the track this organiser is invited to." in text(page, id="role-invite-form")
    assert not RoleInvitation.objects.exists()
    client.post(
        "/mai-2021/manage/roles/",
        {"role": "device_operator", "email": "tia@x.edu", "device_host": source["host"].pk},
    )
    invitation = RoleInvitation.objects.get()
    source["host"].operators.add(source["users"]["organiser"])
    page = client.get("/mai-2021/manage/roles/")
    assert [li.text for li in element(page, id="host-operators").find_all("li")] == [
        "lab-phones: olga@organisers.edu"
    ]
    row = element(page, id=f"role-invitation-{invitation.pk}")
    assert row.text.startswith("tia@x.edu Device operator of host lab-phones Pending")
    confirm = client.get(f"/mai-2021/manage/roles/{invitation.pk}/revoke/")
    assert text(confirm, id="revoke-count") == "1"
    invitation.refresh_from_db()
    assert invitation.state == "pending"  # nothing before the confirmation
    client.post(f"/mai-2021/manage/roles/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    page = _answer(Client(), invitation, "decline")
    assert "withdrawn by the chairs" in text(page, "div", **{"class": "messages"})
