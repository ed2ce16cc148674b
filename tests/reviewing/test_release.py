"""Releasing decisions goes through a confirmation page with counts and warnings (papers without all
reviews, without a meta-review); a confirmation that no longer matches the decisions is refused."""

import re

import pytest

from conference.models import OutgoingMail
from conference.reviewing.domain.decisions import decision_set
from conference.reviewing.models import Decision
from tests.html import text
from tests.reviewing.conftest import add_author

pytestmark = pytest.mark.django_db
URL = "/rev-test/review/release/"
MESSAGE = {"subject": "[{workshop}] Paper #{number}: {decision}", "body": "Dear authors, see {url}"}


def cell(html: str, element_id: str) -> str:
    shown = text(html, id=element_id)
    assert shown is not None, f"no #{element_id}"
    return shown


def decision_mails():
    return OutgoingMail.objects.filter(subject__startswith="[RTW] Paper #")


def test_release_asks_with_counts_and_warnings_then_releases(client, reviewed):
    client.force_login(reviewed["chair"])
    page = client.post(URL, {**MESSAGE, "action": "send"})
    html = page.content.decode()
    assert page.status_code == 200
    assert (cell(html, "release-total"), cell(html, "release-accept"), cell(html, "release-reject")) == (
        "2",
        "1",
        "1",
    )
    assert cell(html, "release-recipients") == "2"  # alice and bob (bob wrote both)
    assert cell(html, "release-undecided") == "1"  # paper #3
    assert (
        cell(html, "release-missing-reviews")
        == "#2 Monocular depth on a Raspberry Pi: 1 of 2 reviews submitted"
    )
    assert cell(html, "release-missing-meta") == "#2 Monocular depth on a Raspberry Pi"
    assert not Decision.objects.filter(released_at__isnull=False).exists()
    assert not decision_mails().exists()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', html).group(1)
    response = client.post(URL, {**MESSAGE, "action": "confirm", "fingerprint": fingerprint}, follow=True)
    assert "2 decision(s) released; the authors are being notified." in [
        str(m) for m in response.context["messages"]
    ]
    assert Decision.objects.filter(released_at__isnull=False).count() == 2
    assert sorted(m.subject for m in decision_mails()) == ["[RTW] Paper #1: Accept", "[RTW] Paper #2: Reject"]


def test_a_stale_confirmation_releases_nothing(client, reviewed):
    client.force_login(reviewed["chair"])
    html = client.post(URL, {**MESSAGE, "action": "send"}).content.decode()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', html).group(1)
    decision_set(papers=[reviewed["papers"][2]], outcome="reject", user=reviewed["chair"])
    response = client.post(URL, {**MESSAGE, "action": "confirm", "fingerprint": fingerprint}, follow=True)
    assert any(
        "The decisions changed since the confirmation page was shown" in str(m)
        for m in response.context["messages"]
    )
    assert not Decision.objects.filter(released_at__isnull=False).exists()
    assert not decision_mails().exists()


def test_a_conflicted_chair_is_told_counts_not_papers(client, reviewed):
    chair = reviewed["chair"]
    add_author(reviewed["papers"][1], chair)
    client.force_login(chair)
    html = client.post(URL, {**MESSAGE, "action": "send"}).content.decode()
    assert cell(html, "release-total") == "2"
    warnings = cell(html, "release-warnings")
    assert "1 of these decision(s) are on papers you are in conflict with" in warnings
    assert "Monocular" not in warnings
