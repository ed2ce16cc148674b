"""Services of reviewing on PostgreSQL: conflicts, bids, assignment run/commit, reviews, decisions."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from conference.models import Membership, OutgoingMail, Paper, PaperChange
from conference.reviewing import assignment_services, selectors
from conference.reviewing.domain.assignments import assignment_add, assignment_run
from conference.reviewing.domain.bids import bid_set
from conference.reviewing.domain.committee import (
    invitation_create,
    invitation_create_many,
    invitation_respond,
    invitation_revoke,
    reviewer_profile_get_or_create,
    reviewer_profile_update,
)
from conference.reviewing.domain.conflicts import conflict_decide, conflicts_detect
from conference.reviewing.domain.decisions import decision_set, decisions_release
from conference.reviewing.domain.reviews import reminders_send, review_save
from conference.reviewing.models import Assignment, Bid, Conflict, Decision, Review, ReviewerProfile
from config.celery import app
from tests.factories import MembershipFactory, make_paper
from tests.reviewing.conftest import AUTHORS

pytestmark = pytest.mark.django_db


def conflicts_of(user):
    return {(c.paper.number, c.source, c.state) for c in Conflict.objects.filter(user=user)}


def test_detection_finds_domain_and_coauthor_conflicts_through_unconfirmed_address(edition):
    created = conflicts_detect(workshop=edition["workshop"])
    r = edition["reviewers"]
    assert conflicts_of(r["rita"]) == set() and conflicts_of(r["sam"]) == set()
    assert conflicts_of(r["ursula"]) == {(1, "domain", "suggested")}
    # Tom's unconfirmed t.third@inst-c.edu makes him an author of #3 and Bob's co-author there.
    assert conflicts_of(r["tom"]) == {
        (3, "self", "confirmed"),
        (3, "domain", "suggested"),
        (1, "coauthor", "suggested"),
        (2, "coauthor", "suggested"),
    }
    assert created == 5
    evidence = Conflict.objects.get(user=r["tom"], paper__number=1).evidence
    assert evidence == "co-authors on paper #3"


def test_dismissed_conflict_stays_dismissed_on_rerun_and_needs_a_reason(edition):
    conflicts_detect(workshop=edition["workshop"])
    conflict = Conflict.objects.get(user=edition["reviewers"]["ursula"], paper__number=1)
    with pytest.raises(ValidationError, match="Give a reason"):
        conflict_decide(conflict=conflict, confirm=False, reason=" ", user=edition["chair"])
    conflict_decide(
        conflict=conflict, confirm=False, reason="Different campus, never met", user=edition["chair"]
    )
    assert conflicts_detect(workshop=edition["workshop"]) == 0
    conflict.refresh_from_db()
    assert (conflict.state, conflict.reason) == ("dismissed", "Different campus, never met")
    assert edition["papers"][0].id in {
        p.id
        for p in selectors.papers_for_bidding(
            workshop=edition["workshop"], user=edition["reviewers"]["ursula"]
        )
    }


def test_reviewer_declared_conflicts_and_preview_before_invitation(edition):
    rp = reviewer_profile_get_or_create(workshop=edition["workshop"], user=edition["reviewers"]["rita"])
    reviewer_profile_update(profile=rp, conflict_domains="lab-b.org", max_load=4)
    assert conflicts_of(edition["reviewers"]["rita"]) == {
        (1, "reviewer", "confirmed"),
        (2, "reviewer", "confirmed"),
        (3, "reviewer", "confirmed"),
    }
    found = selectors.conflicts_preview_for_email(workshop=edition["workshop"], email="newbie@inst-c.edu")
    assert {(f.paper, f.source) for f in found} == {(edition["papers"][2].id, "domain")}


def test_bidding_hides_conflicted_and_own_papers_and_filters(edition):
    ws, r = edition["workshop"], edition["reviewers"]
    conflicts_detect(workshop=ws)
    assert [p.number for p in selectors.papers_for_bidding(workshop=ws, user=r["ursula"])] == [2, 3]
    assert [p.number for p in selectors.papers_for_bidding(workshop=ws, user=r["tom"])] == []
    quant = edition["topics"][2]
    assert [p.number for p in selectors.papers_for_bidding(workshop=ws, user=r["rita"], topic=quant.id)] == [
        1,
        3,
    ]
    assert [
        p.number for p in selectors.papers_for_bidding(workshop=ws, user=r["rita"], query="raspberry")
    ] == [2]
    bid_set(paper=edition["papers"][1], user=r["rita"], value="conflict")
    assert [p.number for p in selectors.papers_for_bidding(workshop=ws, user=r["rita"])] == [1, 3]
    assert Conflict.objects.get(user=r["rita"]).source == "reviewer"
    with pytest.raises(ValidationError, match="Unknown bid"):
        bid_set(paper=edition["papers"][0], user=r["rita"], value="maybe")


def test_run_commit_and_rerun_keep_committed_pairs(edition):
    ws, r, papers = edition["workshop"], edition["reviewers"], edition["papers"]
    conflicts_detect(workshop=ws)
    MembershipFactory(workshop=ws, user=edition["chair"], role="reviewer")  # a 5th reviewer
    bid_set(paper=papers[1], user=r["sam"], value="eager")
    bid_set(paper=papers[1], user=r["rita"], value="not_willing")
    summary = assignment_run(workshop=ws, k=2)
    assert summary["feasible"] and summary["new_pairs"] == 6 and summary["diagnosis"] == []
    proposed = {(a.paper.number, a.user_id) for a in Assignment.objects.all()}
    forbidden = selectors.conflicted_pairs(workshop=ws)
    assert not {(a.paper_id, a.user_id) for a in Assignment.objects.all()} & forbidden
    assert (2, r["sam"].id) in proposed and (2, r["rita"].id) not in proposed  # bids count
    assert assignment_services.assignments_commit(workshop=ws) == 6
    numbers = sorted((a.paper.number, a.number) for a in Assignment.objects.all())
    assert numbers == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    assert OutgoingMail.objects.filter(subject__contains="assigned to you").count() == len(
        {a.user_id for a in Assignment.objects.all()}
    )
    # A late paper arrives; re-running keeps every committed pair and only fills the new one.

    make_paper(ws, 4, "Late paper", "Depth and super-resolution.", [(*AUTHORS["carol"], None)])
    before = set(Assignment.objects.values_list("paper_id", "user_id"))
    summary = assignment_run(workshop=ws)
    assert summary["kept_pairs"] == 6 and summary["new_pairs"] == 2
    assert before <= set(Assignment.objects.values_list("paper_id", "user_id"))
    assert Assignment.objects.filter(state="proposed", paper__number=4).count() == 2


def test_infeasible_run_names_the_paper_and_why(edition):
    ws = edition["workshop"]
    conflicts_detect(workshop=ws)
    summary = assignment_run(workshop=ws, k=3)
    assert not summary["feasible"]
    text = "\n".join(summary["diagnosis"])
    # Paper 1: Tom (co-author) and Ursula (domain) are conflicted; only Rita and Sam remain.
    assert "Paper #1: needs 3 reviewers, has 2; only 2 of 4 reviewers are eligible (2 in conflict" in text
    assert len(summary["diagnosis"]) == 1  # papers 2 and 3 have Rita, Sam and Ursula
    assert Assignment.objects.filter(paper__number=3).count() == 3


def test_manual_assignment_refuses_conflicts(edition):
    ws, r = edition["workshop"], edition["reviewers"]
    conflicts_detect(workshop=ws)
    with pytest.raises(ValidationError, match="conflict of interest with paper #1"):
        assignment_add(paper=edition["papers"][0], user=r["ursula"])
    # Even before detection ran, an author can never be assigned to their own paper.
    Conflict.objects.all().delete()
    with pytest.raises(ValidationError, match="conflict of interest with paper #3"):
        assignment_add(paper=edition["papers"][2], user=r["tom"])
    row = assignment_add(paper=edition["papers"][0], user=r["rita"])
    assert row.manual and row.state == "proposed"


def commit(edition, pairs):
    for number, key in pairs:
        assignment_add(paper=edition["papers"][number - 1], user=edition["reviewers"][key])
    assignment_services.assignments_commit(workshop=edition["workshop"])


def test_review_draft_then_submit_keeps_what_was_typed(edition):
    commit(edition, [(1, "rita")])
    assignment = Assignment.objects.get()
    with pytest.raises(ValidationError, match="Saved as a draft. To submit, fill in an overall rating"):
        review_save(assignment=assignment, data={"strengths": "Fast."}, submit=True)
    review = Review.objects.get()
    assert (review.state, review.strengths) == ("draft", "Fast.")
    review_save(
        assignment=assignment,
        data={"rating": 4, "confidence": 3, "weaknesses": "Small data.", "comments_to_authors": "Nice."},
        submit=True,
    )
    review.refresh_from_db()
    assert (review.state, review.rating, review.strengths) == ("submitted", 4, "Fast.")
    with pytest.raises(
        ValidationError, match="A submitted review needs weaknesses; your change was not saved"
    ):
        review_save(assignment=assignment, data={"weaknesses": ""}, submit=False)
    review_save(assignment=assignment, data={"weaknesses": "Small data, one phone."}, submit=False)
    review.refresh_from_db()
    assert (review.state, review.weaknesses) == ("submitted", "Small data, one phone.")


def test_reminders_go_to_late_reviewers_once_per_interval(edition):
    commit(edition, [(1, "rita"), (1, "sam")])
    sam = Assignment.objects.get(user=edition["reviewers"]["sam"])
    review_save(
        assignment=sam,
        data={"rating": 3, "confidence": 2, "strengths": "s", "weaknesses": "w", "comments_to_authors": "c"},
        submit=True,
    )
    config = selectors.review_settings_get(workshop=edition["workshop"])
    config.review_deadline = timezone.now() + dt.timedelta(days=3)
    config.save()
    assert reminders_send() == 0
    config.review_deadline = timezone.now() - dt.timedelta(hours=1)
    config.save()
    assert reminders_send() == 1
    mail = OutgoingMail.objects.get(subject__startswith="[RTW] Late")
    assert mail.to == ["rita@rev-one.edu"] and "paper #1" in mail.subject
    assert reminders_send() == 0
    assert reminders_send(now=timezone.now() + dt.timedelta(hours=49)) == 1


def test_beat_schedule_has_the_reminder():
    entry = app.conf.beat_schedule["reviewing-reminders"]
    assert entry["task"] == "reviewing.send_review_reminders"


def test_decisions_release_with_template_mail_and_status(edition):
    ws, chair, papers = edition["workshop"], edition["chair"], edition["papers"]
    decision_set(papers=papers[:2], outcome="accept", user=chair)
    decision_set(papers=[papers[1]], outcome="reject", user=chair)
    with pytest.raises(ValidationError, match="Unknown placeholder {authors}"):
        selectors.notification_render(paper=papers[0], subject="{authors}", body="")
    subject, body = selectors.notification_render(
        paper=papers[0], subject="Paper {number}: {decision}", body="{title}\n{url}"
    )
    assert subject == "Paper 1: Accept"
    assert (
        body.startswith("Tiny super-resolution networks for phones\nhttp")
        and "/rev-test/review/my-papers/1/reviews/" in body
    )
    assert (
        decisions_release(workshop=ws, subject="[{workshop}] #{number} {decision}", body="b", user=chair) == 2
    )
    assert {m.subject: m.to for m in OutgoingMail.objects.filter(subject__startswith="[RTW] #")} == {
        "[RTW] #1 Accept": ["alice@uni-a.edu", "bob@lab-b.org"],
        "[RTW] #2 Reject": ["bob@lab-b.org"],
    }
    papers[0].refresh_from_db()
    papers[2].refresh_from_db()
    assert (papers[0].status, papers[2].status) == (Paper.Status.ACCEPTED, Paper.Status.SUBMITTED)
    assert PaperChange.objects.filter(paper=papers[0], action="decision").exists()
    assert decisions_release(workshop=ws, subject="s", body="b", user=chair) == 0
    with pytest.raises(ValidationError, match="already released"):
        decision_set(papers=[papers[0]], outcome="reject", user=chair)
    assert Decision.objects.get(paper=papers[0]).outcome == "accept"


def test_invitations_are_bound_to_the_address_and_work_once(edition, make_user):
    ws = edition["workshop"]
    created, errors = invitation_create_many(
        workshop=ws,
        text="Nina New <nina@new-uni.edu>\nnot-an-address\nomar@other.edu, Omar O",
        invited_by=edition["chair"],
    )
    assert [(i.email, i.name) for i in created] == [
        ("nina@new-uni.edu", "Nina New"),
        ("omar@other.edu", "Omar O"),
    ]
    assert errors == ["“not-an-address” is not an e-mail address (write Name <name@example.org>)."]
    mail = OutgoingMail.objects.get(to=["nina@new-uni.edu"])
    assert f"/rev-test/review/invitation/{created[0].token}/" in mail.body
    with pytest.raises(ValidationError, match="log in with an account for nina@new-uni.edu"):
        invitation_respond(invitation=created[0], accept=True, user=None)
    mallory = make_user("mallory@evil.example")
    with pytest.raises(ValidationError, match="This invitation is for nina@new-uni.edu"):
        invitation_respond(invitation=created[0], accept=True, user=mallory)
    # An unconfirmed copy of the address is not enough either.
    mallory.emailaddress_set.create(email="nina@new-uni.edu", verified=False)
    with pytest.raises(ValidationError, match="This invitation is for nina@new-uni.edu"):
        invitation_respond(invitation=created[0], accept=True, user=mallory)
    assert not Membership.objects.filter(user=mallory).exists()
    invitation_respond(invitation=created[1], accept=False)
    with pytest.raises(ValidationError, match="declined"):
        invitation_respond(invitation=created[1], accept=True)
    nina = make_user("Nina@New-Uni.edu")
    invitation_respond(invitation=created[0], accept=True, user=nina)
    assert Membership.objects.filter(workshop=ws, user=nina, role="reviewer").exists()
    assert ReviewerProfile.objects.filter(workshop=ws, user=nina).exists()
    with pytest.raises(ValidationError, match="already been used"):
        invitation_respond(invitation=created[0], accept=True, user=make_user("x@new-uni.edu"))
    with pytest.raises(ValidationError, match="already accepted"):
        invitation_respond(invitation=created[0], accept=True, user=nina)


def test_revoked_and_reissued_invitations(edition):
    ws = edition["workshop"]
    invitation = invitation_create(workshop=ws, email="rex@far.edu", invited_by=edition["chair"])
    old_token = invitation.token
    invitation_revoke(invitation=invitation, by=edition["chair"])
    with pytest.raises(ValidationError, match="withdrawn by the chairs"):
        invitation_respond(invitation=invitation, accept=False)
    with pytest.raises(ValidationError, match="Only pending invitations can be revoked"):
        invitation_revoke(invitation=invitation, by=edition["chair"])
    again = invitation_create(workshop=ws, email="rex@far.edu", invited_by=edition["chair"])
    assert again.pk == invitation.pk and again.state == "pending" and again.token != old_token
    assert OutgoingMail.objects.filter(to=["rex@far.edu"]).count() == 2


def test_dashboard_scores_sorted(edition):
    commit(edition, [(1, "rita"), (1, "sam"), (2, "rita")])
    for assignment, rating, confidence in [
        (Assignment.objects.get(paper__number=1, user__email="rita@rev-one.edu"), 5, 4),
        (Assignment.objects.get(paper__number=1, user__email="sam@rev-two.edu"), 2, 2),
        (Assignment.objects.get(paper__number=2), 4, 3),
    ]:
        review_save(
            assignment=assignment,
            data={
                "rating": rating,
                "confidence": confidence,
                "strengths": "s",
                "weaknesses": "w",
                "comments_to_authors": "c",
            },
            submit=True,
        )
    rows = selectors.decision_dashboard(workshop=edition["workshop"], sort="mean")
    assert [(s.paper.number, s.mean, s.spread, s.confidence) for s in rows] == [
        (2, 4.0, 0, 3.0),
        (1, 3.5, 3, 3.0),
        (3, None, None, None),
    ]
    assert [
        s.paper.number for s in selectors.decision_dashboard(workshop=edition["workshop"], sort="spread")
    ] == [1, 2, 3]
    assert Bid.objects.count() == 0


def test_seed_demo_adds_reviewers_with_expertise_idempotently(seeded):
    live = seeded["mai-live"]
    emails = set(
        Membership.objects.filter(workshop=live, role="reviewer").values_list("user__email", flat=True)
    )
    assert {"reviewer@example.com", "morgan.mobile@example.com", "jordan.jpeg@example.com"} <= emails
    profile = ReviewerProfile.objects.get(workshop=live, user__email="jordan.jpeg@example.com")
    assert profile.max_load == 4 and profile.topics.count() == 4
    before = (ReviewerProfile.objects.count(), Bid.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (ReviewerProfile.objects.count(), Bid.objects.count()) == before
    assert selectors.review_settings_get(workshop=live).review_deadline > timezone.now()
