"""The assignment as the chair runs it: a background run with a progress page (a real Celery worker
process on the test database), its preview, the confirmation page and the bulk commit; set-based input
reads; dead and failed runs."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conference.models import Membership, OutgoingMail
from conference.reviewing import assignment_services, selectors
from conference.reviewing.domain.assignments import assignment_add, assignment_run
from conference.reviewing.domain.conflicts import conflicts_detect
from conference.reviewing.models import Assignment, AssignmentRun, ReviewerProfile
from tests.conftest import wait_for
from tests.reviewing.conftest import page_text

BASE = "/rev-test/review"


def status_text(client, run) -> str:
    return page_text(client.get(f"{BASE}/assignment/runs/{run.pk}/status/"))


def element(html: str, testid: str) -> str:
    """The text of the element carrying data-testid=testid (what the chair reads there)."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element {testid}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


@pytest.mark.django_db(transaction=True)
def test_chair_runs_in_a_worker_watches_progress_confirms_and_commits(client, edition, celery_worker):
    ws, r = edition["workshop"], edition["reviewers"]
    Membership.objects.create(workshop=ws, user=edition["chair"], role=Membership.Role.REVIEWER)
    conflicts_detect(workshop=ws)
    client.force_login(edition["chair"])
    response = client.post(
        f"{BASE}/assignment/", {"action": "run", "k": "2", "min_load": "1", "max_load": "3", "balance": "0"}
    )
    run = AssignmentRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}/assignment/runs/{run.pk}/"
    page = client.get(response["Location"]).content.decode()
    # The worker may already be done; while it is not, the page polls (see also the test below).
    state = element(page, "run-state")
    assert state in ("Queued", "Running", "Done")
    assert ('hx-trigger="every 1s"' in page) == (state != "Done")
    wait_for(lambda: AssignmentRun.objects.get(pk=run.pk).state == "done", timeout=60)
    html = client.get(f"{BASE}/assignment/runs/{run.pk}/status/").content.decode()
    assert element(html, "run-state") == "Done"
    assert "hx-trigger" not in html  # polling stops
    result = element(html, "run-result")
    assert "3 papers, 5 reviewers, k = 2; 6 pair(s) proposed, 0 kept" in result
    assert "Every paper has its reviewers" in result
    optimality = element(html, "run-optimality")
    assert "Optimal over all" in optimality and "rounded to 4 decimal places" in optimality
    # The minimum load of 1 spreads the 6 reviews over the 4 eligible reviewers (Tom is in conflict
    # with every paper, and the page says he stays below his minimum).
    assert Assignment.objects.values_list("user_id", flat=True).distinct().count() == 4
    assert "1 reviewer(s) stay below: tom@rev-three.edu" in optimality
    # Preview and confirmation.
    text = page_text(client.get(f"{BASE}/assignment/"))
    assert "6 proposed, 0 committed" in text
    html = client.get(f"{BASE}/assignment/commit/").content.decode()
    assert element(html, "to-commit") == "6"
    assert element(html, "reviewers-notified") == "4"
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    response = client.post(f"{BASE}/assignment/commit/", {"fingerprint": fingerprint}, follow=True)
    assert "6 assignment(s) committed" in page_text(response)
    assert Assignment.objects.filter(state="committed").count() == 6
    assert AssignmentRun.objects.get(pk=run.pk).state == "committed"
    numbers = sorted(Assignment.objects.values_list("paper__number", "number"))
    assert numbers == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    # One e-mail per reviewer, listing all their papers, sent by the worker.
    mails = wait_for(
        lambda: (
            list(OutgoingMail.objects.filter(subject__contains="assigned to you", state="sent"))
            if OutgoingMail.objects.filter(subject__contains="assigned to you", state="sent").count() == 4
            else None
        ),
        timeout=60,
    )
    assert sorted(m.to[0] for m in mails) == sorted(
        set(Assignment.objects.values_list("user__email", flat=True))
    )
    sam_papers = Assignment.objects.filter(user=r["sam"]).count()
    sam_mail = next(m for m in mails if m.to == ["sam@rev-two.edu"])
    assert sam_mail.subject == f"[RTW] {sam_papers} paper(s) assigned to you"


@pytest.mark.django_db
def test_one_run_at_a_time_and_a_dead_worker_is_reported(client, edition, settings):
    ws = edition["workshop"]
    client.force_login(edition["chair"])
    client.post(f"{BASE}/assignment/", {"action": "run", "k": "2"})
    run = AssignmentRun.objects.get()
    html = client.get(f"{BASE}/assignment/runs/{run.pk}/").content.decode()
    assert element(html, "run-state") == "Queued" and 'hx-trigger="every 1s"' in html
    assert element(html, "run-percent") == "0%"
    response = client.post(f"{BASE}/assignment/", {"action": "run", "k": "2"}, follow=True)
    assert f"An assignment run is already queued for this edition (run {run.pk})" in page_text(response)
    assert AssignmentRun.objects.count() == 1
    # The worker took it, then vanished: no sign of life for longer than allowed.
    settings.ASSIGNMENT_RUN_STALE_S = 60
    AssignmentRun.objects.filter(pk=run.pk).update(
        state="running",
        attempts=1,
        started_at=timezone.now() - timedelta(minutes=5),
        heartbeat_at=timezone.now() - timedelta(seconds=90),
        stage="solving",
        progress=40,
    )
    html = client.get(f"{BASE}/assignment/runs/{run.pk}/status/").content.decode()
    assert element(html, "run-state") == "Failed"
    assert "The worker computing the run stopped answering" in element(html, "run-error")
    # A redelivered message for it changes nothing; a new run may start.
    assert assignment_services.assignment_run_execute(run_id=run.pk).state == "failed"
    client.post(f"{BASE}/assignment/", {"action": "run", "k": "2"})
    assert AssignmentRun.objects.filter(workshop=ws).count() == 2


@pytest.mark.django_db
def test_a_run_nobody_picks_up_fails_with_the_reason(edition, settings):
    run = assignment_services.assignment_run_start(
        workshop=edition["workshop"], user=edition["chair"], options={"k": 2, "min_load": 0, "max_load": 6}
    )
    settings.ASSIGNMENT_RUN_QUEUE_TIMEOUT_S = 600
    assert assignment_services.assignment_runs_sweep(now=timezone.now() + timedelta(minutes=5)) == 0
    assert assignment_services.assignment_runs_sweep(now=timezone.now() + timedelta(minutes=11)) == 1
    run.refresh_from_db()
    assert run.state == "failed" and "No worker picked the run up within 10 minutes" in run.error


@pytest.mark.django_db
def test_failed_run_shows_why_and_keeps_the_previous_proposal(client, edition):
    ws = edition["workshop"]
    conflicts_detect(workshop=ws)
    assignment_run(workshop=ws, k=1)
    before = set(Assignment.objects.values_list("paper_id", "user_id"))
    Membership.objects.filter(workshop=ws, role="reviewer").delete()
    run = assignment_services.assignment_run_start(
        workshop=ws, user=edition["chair"], options={"k": 1, "min_load": 0, "max_load": 6}
    )
    assignment_services.assignment_run_execute(run_id=run.pk)
    client.force_login(edition["chair"])
    html = client.get(f"{BASE}/assignment/runs/{run.pk}/").content.decode()
    assert element(html, "run-error") == "The committee has no reviewers yet: invite some first."
    assert set(Assignment.objects.values_list("paper_id", "user_id")) == before


@pytest.mark.django_db
def test_bad_options_are_refused_on_the_page(client, edition):
    client.force_login(edition["chair"])
    response = client.post(
        f"{BASE}/assignment/", {"action": "run", "k": "2", "min_load": "4", "max_load": "2"}, follow=True
    )
    assert "The minimum load cannot exceed the maximum load." in page_text(response)
    response = client.post(f"{BASE}/assignment/", {"action": "run", "k": "x"}, follow=True)
    assert "“x” is not a number (k)." in page_text(response)
    assert not AssignmentRun.objects.exists()


@pytest.mark.django_db
def test_inputs_are_read_in_a_fixed_number_of_queries(edition, make_user):
    ws = edition["workshop"]
    conflicts_detect(workshop=ws)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            inputs = assignment_services.assignment_inputs(workshop=ws, default_max=6, default_min=0)
        return len(ctx.captured_queries), inputs

    count()  # the edition's review settings row is created on first use
    few, inputs = count()
    assert len(inputs.reviewers) == 4
    for i in range(12):
        user = make_user(f"extra{i}@far{i}.edu", other_emails=[f"old{i}@other{i}.edu"])
        Membership.objects.create(workshop=ws, user=user, role=Membership.Role.REVIEWER)
        ReviewerProfile.objects.create(workshop=ws, user=user, max_load=2 + i % 3, min_load=i % 2)
    many, inputs = count()
    assert len(inputs.reviewers) == 16
    assert many == few <= 16
    # The set-based reads find the same conflicts as the per-user rules of `selectors`.
    forbidden = {
        (inputs.papers[i], inputs.reviewers[j]) for i, j in zip(*inputs.forbidden.nonzero(), strict=True)
    }
    expected = {
        (p, u)
        for p, u in selectors.conflicted_pairs(workshop=ws)
        if p in inputs.papers and u in inputs.reviewers
    }
    assert forbidden == expected and forbidden
    assert inputs.max_loads[user.id] == 2 + 11 % 3 and inputs.min_loads[user.id] == 1


@pytest.mark.django_db
def test_confirmation_flags_over_capacity_and_short_papers_and_refuses_a_stale_page(client, edition):
    ws, r, papers = edition["workshop"], edition["reviewers"], edition["papers"]
    conflicts_detect(workshop=ws)
    ReviewerProfile.objects.create(workshop=ws, user=r["sam"], max_load=1)
    assignment_add(paper=papers[0], user=r["sam"])
    assignment_add(paper=papers[1], user=r["sam"])
    client.force_login(edition["chair"])
    html = client.get(f"{BASE}/assignment/commit/").content.decode()
    assert element(html, "to-commit") == "2"
    assert element(html, "over-capacity") == (
        "1 reviewer(s) over their maximum load: sam@rev-two.edu (2 of at most 1)."
    )
    assert element(html, "short-papers") == "3 paper(s) would have fewer than 3 reviewers: #1, #2, #3."
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    assignment_add(paper=papers[2], user=r["rita"])  # the proposal changes meanwhile
    response = client.post(f"{BASE}/assignment/commit/", {"fingerprint": fingerprint}, follow=True)
    assert "The proposed assignment changed since this page was opened" in page_text(response)
    assert not Assignment.objects.filter(state="committed").exists()


@pytest.mark.django_db
def test_chair_sets_per_reviewer_loads_and_the_run_honours_them(client, edition):
    ws, r = edition["workshop"], edition["reviewers"]
    conflicts_detect(workshop=ws)
    client.force_login(edition["chair"])
    bad = "rita@rev-one.edu, 3, 1\nnobody@nowhere.org, 1, 2"
    response = client.post(f"{BASE}/assignment/", {"action": "loads", "loads": bad}, follow=True)
    text = page_text(response)
    assert "Line 1: the minimum (3) exceeds the maximum (1)." in text
    assert (
        "Line 2: “nobody@nowhere.org, 1, 2” is not “address, minimum, maximum” of a committee member." in text
    )
    assert re.search(r'<textarea id="loads"[^>]*>rita@rev-one.edu, 3, 1\s+nobody', response.content.decode())
    assert not ReviewerProfile.objects.filter(min_load__isnull=False).exists()  # all or nothing
    response = client.post(
        f"{BASE}/assignment/",
        {"action": "loads", "loads": "RITA@rev-one.edu, , 0\nsam@rev-two.edu, 3, 3"},
        follow=True,
    )
    assert "Loads saved: 2 reviewer(s)" in page_text(response)
    assert re.search(
        r'<textarea id="loads"[^>]*>rita@rev-one.edu, , 0\s+sam@rev-two.edu, 3, 3</textarea>',
        response.content.decode(),
    )
    summary = assignment_run(workshop=ws, k=1)
    assert summary["feasible"]
    assert not Assignment.objects.filter(user=r["rita"]).exists()  # maximum 0
    assert Assignment.objects.filter(user=r["sam"]).count() == 3  # minimum 3: all three papers
