"""End to end in chromium: the chair starts the automatic assignment, watches its progress page update
itself while a real Celery worker computes it, opens the confirmation page (counts and warnings) and
commits; every reviewer gets one e-mail."""

import pytest

from conference.models import Membership, OutgoingMail, Paper, PaperAuthor, Workshop
from conference.reviewing.models import Assignment, AssignmentRun
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_chair_runs_watches_progress_confirms_and_commits(
    live_server, page, make_user, password, celery_worker
):
    ws = Workshop.objects.create(
        slug="assign-e2e",
        name="Assignment E2E Workshop",
        short_name="AE2E",
        host_conference="CVPR 2021",
        start_date="2021-06-19",
        end_date="2021-06-19",
    )
    chair = make_user("chair@chairs-univ.edu", full_name="Charlotte Chairwoman")
    Membership.objects.create(workshop=ws, user=chair, role=Membership.Role.CHAIR)
    reviewers = [make_user(f"rev{i}@lab{i}.edu", full_name=f"Reviewer {i}") for i in range(6)]
    for user in reviewers:
        Membership.objects.create(workshop=ws, user=user, role=Membership.Role.REVIEWER)
    for n in range(1, 9):
        paper = Paper.objects.create(
            workshop=ws,
            number=n,
            title=f"Paper {n} on mobile NPUs",
            abstract="Quantized networks.",
            status="submitted",
        )
        # Reviewer 0 wrote paper 1: never assigned to it.
        author = reviewers[0] if n == 1 else None
        PaperAuthor.objects.create(
            paper=paper,
            order=0,
            name="A. Author",
            email=author.email if author else f"a{n}@uni{n}.edu",
            user=author,
        )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("chair@chairs-univ.edu")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/assign-e2e/review/assignment/")
    page.get_by_label("Reviewers per paper (k)").fill("3")
    page.get_by_label("Minimum load per reviewer").fill("3")
    page.get_by_label("Maximum load per reviewer").fill("5")
    page.get_by_label("Balance loads (0 = off)").fill("0.5")
    page.get_by_role("button", name="Compute the optimal assignment").click()

    # The progress page: the run's state, then (without reloading) its result.
    run = AssignmentRun.objects.get(workshop=ws)
    page.wait_for_url(f"{live_server.url}/assign-e2e/review/assignment/runs/{run.pk}/")
    assert page.get_by_test_id("run-state").inner_text() in ("Queued", "Running", "Done")
    page.get_by_test_id("run-state").filter(has_text="Done").wait_for(timeout=60_000)
    result = page.get_by_test_id("run-result").inner_text()
    assert "8 papers, 6 reviewers, k = 3; 24 pair(s) proposed" in result
    assert "Every paper has its reviewers" in result
    assert (
        "Optimal over all 47 allowed (non-conflicted) pairs"
        in page.get_by_test_id("run-optimality").inner_text()
    )

    # Confirmation: counts and no warning; then the commit.
    page.get_by_role("link", name="Review and commit it").click()
    assert page.get_by_test_id("to-commit").inner_text() == "24"
    assert page.get_by_test_id("reviewers-notified").inner_text() == "6"
    assert "None: every paper has its reviewers" in page.get_by_test_id("commit-warnings").inner_text()
    page.get_by_role("button", name="Commit 24 assignment(s) and notify 6 reviewer(s)").click()
    assert "24 assignment(s) committed" in page.inner_text("main")
    loads = sorted(
        Assignment.objects.filter(paper__workshop=ws, state="committed").values_list("user_id", flat=True)
    )
    assert sorted(loads.count(u.id) for u in reviewers) == [4, 4, 4, 4, 4, 4]
    assert not Assignment.objects.filter(paper__number=1, user=reviewers[0]).exists()
    sent = wait_for(
        lambda: (
            OutgoingMail.objects.filter(subject="[AE2E] 4 paper(s) assigned to you", state="sent").count()
            == 6
        ),
        timeout=60,
    )
    assert sent
