"""End to end in chromium: a reviewer bids, gets assigned by the optimal assignment, reviews; the chair
decides and releases; the author reads the reviews. The paper is created through the models (with the
anonymised review copy the paper side makes), not through the submission pages."""

import re

import pytest

from conference.models import OutgoingMail
from tests.conftest import wait_for
from tests.factories import MembershipFactory, TopicFactory, WorkshopFactory, make_paper
from tests.reviewing.conftest import AUTHORS

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_bid_assign_review_decide_release_read(live_server, page, make_user, password, celery_worker):
    ws = WorkshopFactory(slug="rev-e2e", short_name="E2E", start_date="2021-06-19")
    topic = TopicFactory(workshop=ws, name="Super-resolution")
    chair = make_user("chair@chairs-univ.edu", full_name="Charlotte Chairwoman")
    MembershipFactory(workshop=ws, user=chair, role="chair")
    rita = make_user("rita@rev-one.edu", full_name="Rita Reviewer", affiliation="Reviewer College One")
    sam = make_user("sam@rev-two.edu", full_name="Sam Second", affiliation="Second Polytechnic")
    for user in (rita, sam):
        MembershipFactory(workshop=ws, user=user, role="reviewer")
    alice = make_user(AUTHORS["alice"][1], full_name=AUTHORS["alice"][0], affiliation=AUTHORS["alice"][2])
    make_paper(
        ws,
        1,
        "Tiny super-resolution networks for phones",
        "Real-time super-resolution on NPUs.",
        [(*AUTHORS["alice"], alice)],
        topics=[topic],
    )
    make_paper(
        ws, 2, "Depth on a Raspberry Pi", "Monocular depth estimation on ARM.", [(*AUTHORS["bob"], None)]
    )
    base = f"{live_server.url}/rev-e2e/review"

    # The reviewer bids: eager on #1, not willing on #2; the list shows no author.
    log_in(page, live_server, "rita@rev-one.edu", password)
    page.goto(f"{base}/bids/")
    assert "Alice" not in page.inner_text("main") and "Anonymia" not in page.inner_text("main")
    page.get_by_label("Your bid on paper #1").select_option("eager")
    page.locator("#bid-status-1").get_by_text("Saved: Eager").wait_for()
    page.get_by_label("Your bid on paper #2").select_option("not_willing")
    page.locator("#bid-status-2").get_by_text("Saved: Not willing").wait_for()
    log_out(page)

    # The chair computes the optimal assignment with one reviewer per paper and commits it.
    log_in(page, live_server, "chair@chairs-univ.edu", password)
    page.goto(f"{base}/assignment/")
    page.get_by_label("Reviewers per paper (k)").fill("1")
    page.get_by_role("button", name="Compute the optimal assignment").click()
    # The run goes to a worker; its progress page updates itself until the result shows.
    page.get_by_text("Every paper has its reviewers").wait_for(timeout=60_000)
    page.get_by_role("link", name="See the proposal").click()
    assert "rita@rev-one.edu" in page.locator("#assign-1").inner_text()
    assert "sam@rev-two.edu" in page.locator("#assign-2").inner_text()
    page.get_by_role("link", name="Commit the proposed assignment…").click()
    page.get_by_role("button", name="Commit 2 assignment(s) and notify 2 reviewer(s)").click()
    assert "2 assignment(s) committed" in page.inner_text("main")
    wait_for(
        lambda: OutgoingMail.objects.filter(
            to=["rita@rev-one.edu"], state="sent", subject__contains="assigned to you"
        ).exists()
    )
    log_out(page)

    # The reviewer finds the paper, saves a draft, then submits.
    log_in(page, live_server, "rita@rev-one.edu", password)
    page.goto(f"{base}/")
    page.get_by_role("link", name="Write review").click()
    page.get_by_label("Strengths").fill("Runs at 30 FPS on a phone NPU.")
    page.get_by_role("button", name="Save draft").click()
    assert "Draft saved." in page.inner_text("main")
    page.get_by_label("Overall rating").select_option("4")
    page.get_by_label("Confidence").select_option("3")
    page.get_by_label("Weaknesses").fill("Only one device.")
    page.get_by_label("Comments to authors").fill("Please report latency on a second phone.")
    page.get_by_label("Confidential comments to the chairs").fill("Borderline novelty, but useful.")
    page.get_by_role("button", name="Submit review").click()
    assert "Your review was submitted." in page.inner_text("main")
    log_out(page)

    # The chair accepts #1 from the dashboard and releases with a previewed e-mail.
    log_in(page, live_server, "chair@chairs-univ.edu", password)
    page.goto(f"{base}/decisions/")
    row = page.get_by_role("row", name=re.compile("#1 Tiny"))
    assert row.locator("td").nth(3).inner_text() == "4.0"  # the mean rating
    page.get_by_label("Select paper #1").check()
    page.get_by_label("Decision for the selected papers").select_option("accept")
    page.get_by_role("button", name="Record decision").click()
    assert "Accept" in page.get_by_role("row", name=re.compile("#1 Tiny")).inner_text()
    page.goto(f"{base}/release/")
    page.get_by_label("Subject").fill("[{workshop}] Paper #{number}: {decision}")
    page.get_by_role("button", name="Preview").click()
    assert "[E2E] Paper #1: Accept" in page.locator(".mail-preview").inner_text()
    page.get_by_role("button", name="Release and notify authors").click()
    # Irreversible: the confirmation page counts, and warns of the missing meta-review.
    assert page.locator("#release-total").inner_text() == "1"
    missing_meta = page.locator("#release-missing-meta").inner_text()
    assert missing_meta == "#1 Tiny super-resolution networks for phones"
    page.get_by_role("button", name="Yes, release 1 decision(s) and notify the authors").click()
    assert "1 decision(s) released" in page.inner_text("main")
    mail = wait_for(lambda: OutgoingMail.objects.filter(to=["alice@uni-a.edu"], state="sent").first())
    assert mail.subject == "[E2E] Paper #1: Accept"
    log_out(page)

    # The author follows the link from the e-mail and reads the review, signed "Reviewer 1".
    log_in(page, live_server, "alice@uni-a.edu", password)
    link = re.search(r"(http://\S+/my-papers/1/reviews/)", mail.body).group(1)
    page.goto(link.replace(re.match(r"http://[^/]+", link).group(0), live_server.url))
    main = page.inner_text("main")
    assert "Decision: Accept" in main
    assert "Reviewer 1" in main and "Please report latency on a second phone." in main
    assert "Rita" not in main and "rev-one.edu" not in main and "Borderline novelty" not in main
