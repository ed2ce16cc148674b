"""End to end in chromium: sign up, follow the link from the sent e-mail, log in, read the dates."""

import re

import pytest

from conference.models import OutgoingMail
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_signup_verify_login_and_see_pacific_deadline(live_server, page, seeded, celery_worker):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("e2e@uni.example")
    page.get_by_label("Full name").fill("Eve Endtoend")
    page.locator("#id_password1").fill("a-Long-test-passw0rd")
    page.locator("#id_password2").fill("a-Long-test-passw0rd")
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))

    mail = wait_for(
        lambda: OutgoingMail.objects.filter(to=["e2e@uni.example"], state=OutgoingMail.State.SENT).first(),
        timeout=30,
    )
    link = re.search(r"(http://\S+/accounts/confirm-email/\S+/)", mail.body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("e2e@uni.example")
    page.locator("#id_password").fill("a-Long-test-passw0rd")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Signed in as e2e@uni.example" in page.inner_text("header")

    page.goto(f"{live_server.url}/mai-2021/dates/")
    row = page.get_by_role("row", name=re.compile(r"^Paper submission deadline"))
    assert "Mon 15 March 2021, 5pm Pacific Time (PDT)" in row.inner_text()
    assert "your time:" in row.inner_text()
