"""Accounts: sign-up with verification, log-in by e-mail, rate limits, the profile, password hashing."""

import re
import threading

import pytest
import requests
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache

from conference.models import OutgoingMail, Profile

pytestmark = pytest.mark.django_db


def test_signup_stores_profile_and_queues_verification_mail(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@uni.example",
            "password1": "a-Long-test-passw0rd",
            "password2": "a-Long-test-passw0rd",
            "full_name": "Nina New",
            "affiliation": "Uni Example",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="new@uni.example")
    assert user.password.startswith("argon2")
    assert Profile.objects.get(user=user).full_name == "Nina New"
    mail = OutgoingMail.objects.get(to=["new@uni.example"])
    assert "confirm" in mail.subject.lower()
    assert re.search(r"http://testserver/accounts/confirm-email/\S+/", mail.body)
    # not verified yet: cannot log in
    response = client.post(
        "/accounts/login/", {"login": "new@uni.example", "password": "a-Long-test-passw0rd"}
    )
    assert not EmailAddress.objects.get(email="new@uni.example").verified
    assert "_auth_user_id" not in client.session


def test_login_by_email(client, make_user, password):
    make_user(email="known@example.org")
    response = client.post("/accounts/login/", {"login": "known@example.org", "password": password})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_failed_logins_are_rate_limited(client, make_user, settings):
    cache.clear()
    make_user(email="target@example.org")
    pages = [
        client.post(
            "/accounts/login/", {"login": "target@example.org", "password": f"wrong{i}"}
        ).content.decode()
        for i in range(7)
    ]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    cache.clear()


def test_profile_lists_emails_and_domains(client, make_user, password):
    user = make_user(email="me@ethz.ch")
    client.login(username=user.email, password=password)
    response = client.post(
        "/profile/",
        {
            "full_name": "Me Myself",
            "affiliation": "ETH Zurich",
            "country": "Switzerland",
            "other_emails": "Me@Old-Uni.edu\nme@gmail.com",
            "institution_domains": "vision.ee.ethz.ch",
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert profile.other_emails == ["me@old-uni.edu", "me@gmail.com"]
    assert set(profile.all_domains()) == {"ethz.ch", "old-uni.edu", "gmail.com", "vision.ee.ethz.ch"}


def test_profile_refuses_bad_addresses_and_keeps_old_values(client, make_user, password):
    user = make_user(email="me2@ethz.ch")
    Profile.objects.filter(user=user).update(other_emails=["kept@example.org"])
    client.login(username=user.email, password=password)
    response = client.post(
        "/profile/",
        {"full_name": "Me", "other_emails": "not-an-address", "institution_domains": "https://ethz.ch"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "“not-an-address”" in page and "Enter a domain such as ethz.ch" in page
    assert Profile.objects.get(user=user).other_emails == ["kept@example.org"]


def test_profile_needs_login(client):
    response = client.get("/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_verification_mail_names_the_site_not_example_com(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "site@uni.example",
            "password1": "a-Long-test-passw0rd",
            "password2": "a-Long-test-passw0rd",
            "full_name": "Sam Site",
            "affiliation": "Uni Example",
        },
    )
    mail = OutgoingMail.objects.get(to=["site@uni.example"])
    assert "example.com" not in mail.body
    assert mail.body.startswith("Hello from Mobile AI Workshop!")


@pytest.mark.django_db(transaction=True)
def test_a_class_behind_one_address_signs_in_at_once_while_wrong_passwords_still_lock(
    live_server, make_user, password
):
    """20 correct sign-ins at the same moment from one address all succeed (a lab behind NAT); six
    wrong passwords for one account still lock that account, even with the right password after."""
    cache.clear()
    emails = [f"student{i}@lab.example" for i in range(20)]
    for email in emails:
        make_user(email=email)
    make_user(email="victim@lab.example")
    barrier = threading.Barrier(len(emails))
    signed_in: dict[str, bool] = {}

    def sign_in(email: str, secret: str) -> tuple[requests.Session, str]:
        session = requests.Session()
        session.get(f"{live_server.url}/accounts/login/", timeout=60)
        response = session.post(
            f"{live_server.url}/accounts/login/",
            data={"login": email, "password": secret, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{live_server.url}/accounts/login/"},
            timeout=60,
        )
        return session, response.text

    def student(email: str) -> None:
        session = requests.Session()
        session.get(f"{live_server.url}/accounts/login/", timeout=60)
        barrier.wait(timeout=60)
        session.post(
            f"{live_server.url}/accounts/login/",
            data={"login": email, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{live_server.url}/accounts/login/"},
            timeout=60,
        )
        profile = session.get(f"{live_server.url}/profile/", allow_redirects=False, timeout=60)
        signed_in[email] = profile.status_code == 200

    threads = [threading.Thread(target=student, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert signed_in == dict.fromkeys(emails, True)

    pages = [sign_in("victim@lab.example", f"wrong{i}")[1] for i in range(6)]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    _session, page = sign_in("victim@lab.example", password)
    assert "Too many failed login attempts" in page
    cache.clear()
