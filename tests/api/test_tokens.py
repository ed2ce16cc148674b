"""Personal API tokens as a person uses them: made on /account/tokens/ (shown once), sent as
`Authorization: Token …` or `Bearer …`, last use shown, read scope enforced on writes, revoked tokens
refused with a clear JSON message, stored only as a hash, throttled per token."""

import hashlib

import pytest
from django.test import Client

from apitokens.models import ApiToken
from common.urls import absolute_url
from tests import html

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(make_user):
    return make_user(email="scripter@uni.example", full_name="Sam Scripter")


@pytest.fixture
def browser(client, person):
    client.force_login(person)
    return client


def _create(browser, name="laptop", scope="read") -> tuple[str, str]:
    """(the secret shown on the page, the page)."""
    page = browser.post("/account/tokens/", {"name": name, "scope": scope})
    assert page.status_code == 200
    secret = html.text(page, **{"data-testid": "token-secret"})
    assert secret and secret.startswith("mai_")
    return secret, page.content.decode()


def test_token_made_on_the_page_is_shown_once_and_stored_hashed(browser, person):
    listing = browser.get("/account/tokens/")
    assert html.text(listing, **{"data-testid": "no-tokens"}) == "You have no API tokens yet."
    secret, page = _create(browser, "laptop", "submit")
    token = ApiToken.objects.get(user=person)
    assert html.cells(page, **{"data-testid": f"token-{token.pk}"})[:2] == ["laptop", "Read and submit"]
    # The ready command line names the site's public address (SITE_URL), not the request's Host.
    site = absolute_url("/").rstrip("/")
    assert html.text(page, **{"data-testid": "token-login"}) == f"mai login --url {site} --token {secret}"
    # Only the SHA-256 of the secret is stored; no column holds the secret.
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(getattr(token, f.attname)) for f in ApiToken._meta.fields)
    # The next visit lists the token without its secret.
    again = browser.get("/account/tokens/")
    assert html.element(again, **{"data-testid": "token-secret"}) is None
    assert secret not in again.content.decode()
    assert html.text(again, **{"data-testid": "token-last-used"}) == "Never"


def test_a_token_authenticates_and_its_last_use_is_shown(browser, person):
    secret, _ = _create(browser)
    api = Client()
    me = api.get("/api/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert me.status_code == 200
    assert me.json()["email"] == "scripter@uni.example" and me.json()["name"] == "Sam Scripter"
    assert me.json()["token"] == {"name": "laptop", "scope": "read"}
    assert api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["email"] == person.email
    token = ApiToken.objects.get(user=person)
    assert token.last_used_at is not None
    cell = html.element(browser.get("/account/tokens/"), **{"data-testid": "token-last-used"})
    # Shown in the site's zone (UTC here) with the viewer's local time beside, as every date.
    assert cell.find("time").attrs["datetime"].startswith(token.last_used_at.strftime("%Y-%m-%dT%H:%M"))
    shown = cell.find("time").text
    assert shown.endswith("m UTC") and "(UTC)" not in shown  # the zone named once, not "UTC (UTC)"


def test_a_read_token_may_not_write(browser):
    secret, _ = _create(browser, "ci", "read")
    api = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/evaluation/jobs/").status_code == 200
    refused = api.post("/api/evaluation/jobs/", {})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "may only read" in refused.json()["detail"]


def test_revoked_and_unknown_tokens_are_refused_with_a_clear_message(browser, person):
    secret, _ = _create(browser)
    token = ApiToken.objects.get(user=person)
    revoked = browser.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert html.text(revoked, **{"data-testid": "token-status"}) == "Revoked"
    assert html.element(revoked, **{"data-testid": f"revoke-{token.pk}"}) is None
    answer = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert answer.status_code == 401 and answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "token_revoked"
    page = absolute_url("/account/tokens/")
    assert answer.json()["detail"] == f"This API token was revoked. Create a new one at {page}"
    forged = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    assert Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {forged}").json()["code"] == "token_invalid"
    assert Client().get("/api/me/", HTTP_AUTHORIZATION="Token nonsense").json()["detail"] == (
        f"Invalid API token: check that it was copied whole, or create a new one at {page}"
    )


def test_nobody_revokes_another_persons_token(browser, person, make_user):
    _create(browser)
    token = ApiToken.objects.get(user=person)
    other = Client()
    other.force_login(make_user(email="other@uni.example"))
    assert other.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_needs_a_name(browser, person):
    page = browser.post("/account/tokens/", {"name": "  ", "scope": "read"})
    assert html.element(page, **{"data-testid": "token-secret"}) is None
    assert "Give the token a name" in html.text(page, **{"data-testid": "token-form"})
    assert not ApiToken.objects.exists()


def test_requests_are_throttled_per_token(browser, person, settings):
    settings.API_TOKEN_RATE = "3/minute"
    first, _ = _create(browser, "first")
    second, _ = _create(browser, "second")
    api = Client()
    codes = [api.get("/api/me/", HTTP_AUTHORIZATION=f"Token {first}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = api.get("/api/me/", HTTP_AUTHORIZATION=f"Token {first}")
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    # Another token of the same person has its own allowance; the browser session is not counted.
    assert api.get("/api/me/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200
    assert browser.get("/api/me/").status_code == 200
