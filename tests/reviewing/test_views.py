"""Pages of reviewing: permissions (404 for papers one may not see, 403 for chair pages), what each
role reads, and the chair's flows through the forms."""

import pytest

from conference.reviewing.assignment_services import assignment_run_execute
from conference.reviewing.domain.decisions import decisions_release
from conference.reviewing.models import (
    Assignment,
    AssignmentRun,
    Bid,
    Conflict,
    Decision,
    Invitation,
    ReviewerProfile,
)
from tests import html
from tests.factories import AssignmentFactory, MembershipFactory
from tests.reviewing.conftest import add_author, page_text

pytestmark = pytest.mark.django_db
BASE = "/rev-test/review"


def login(client, user):
    client.force_login(user)
    return client


def test_reviewer_cannot_open_unassigned_or_conflicted_paper_by_url(client, reviewed):
    r = reviewed["reviewers"]
    login(client, r["rita"])
    for url in [f"{BASE}/papers/3/", f"{BASE}/papers/3/paper.pdf", f"{BASE}/papers/3/review/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "Learned camera ISP" not in page_text(response)
    assert client.post(f"{BASE}/papers/3/discussion/", {"text": "hi"}).status_code == 404
    # A committed row that is in conflict (made behind the services' back) still opens nothing.
    AssignmentFactory(paper=reviewed["papers"][0], user=r["ursula"], state="committed", number=9)
    login(client, r["ursula"])
    assert client.get(f"{BASE}/papers/1/").status_code == 404
    assert client.get(f"{BASE}/papers/1/paper.pdf").status_code == 404


def test_assigned_reviewer_sees_others_only_after_submitting(client, reviewed):
    papers, r = reviewed["papers"], reviewed["reviewers"]
    login(client, r["sam"])
    text = page_text(client.get(f"{BASE}/papers/3/"))  # Sam's review of #3 is a draft
    assert "You are <strong>Reviewer 2</strong>" in text
    assert "open once you submit your own review" in text and "Clear writing." not in text
    text = page_text(client.get(f"{BASE}/papers/1/"))  # Sam submitted on #1
    assert "Reviewer 1" in text and "Reviewer 2" in text and "Please add latency on more phones." in text
    assert "I think the latency claim holds." in text and "Please converge by Friday." in text
    assert "CONFIDENTIAL-NOTE-FOR-CHAIRS" not in text
    assert "rita@rev-one.edu" not in text and "Rita Reviewer" not in text
    pdf = client.get(f"{BASE}/papers/1/paper.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="paper-1.pdf"' in pdf["Content-Disposition"]
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"
    del papers


def test_chair_pages_are_for_chairs_only(client, reviewed):
    login(client, reviewed["reviewers"]["rita"])
    for page in ["committee", "conflicts", "assignment", "decisions", "release", "settings"]:
        assert client.get(f"{BASE}/{page}/").status_code == 403, page
    login(client, reviewed["chair"])
    text = page_text(client.get(f"{BASE}/papers/1/"))
    assert "CONFIDENTIAL-NOTE-FOR-CHAIRS" in text and "Reviewer 1: rita@rev-one.edu" in text


def test_author_reads_reviews_only_after_release(client, reviewed):
    alice = reviewed["author"]
    login(client, alice)
    assert client.get(f"{BASE}/my-papers/1/reviews/").status_code == 404
    assert "under review" in page_text(client.get(f"{BASE}/"))
    login(client, reviewed["chair"])
    message = {"subject": "[{workshop}] {decision}", "body": "See {url}"}
    confirm = client.post(f"{BASE}/release/", {**message, "action": "send"})
    assert Decision.objects.filter(released_at__isnull=False).count() == 0  # asked first
    fingerprint = confirm.context["summary"].fingerprint
    response = client.post(f"{BASE}/release/", {**message, "action": "confirm", "fingerprint": fingerprint})
    assert response.status_code == 302
    assert Decision.objects.filter(released_at__isnull=False).count() == 2
    login(client, alice)
    text = page_text(client.get(f"{BASE}/my-papers/1/reviews/"))
    assert 'Decision: <strong id="decision">Accept</strong>' in text
    assert (
        "Reviewer 1" in text
        and "Reviewer 2" in text
        and "4: Weak accept" in text
        and "2: Weak reject" in text
    )
    assert "The reviewers agree on the contribution." in text
    for secret in [
        "CONFIDENTIAL-NOTE-FOR-CHAIRS",
        "rita@rev-one.edu",
        "Rita Reviewer",
        "sam@rev-two.edu",
        "Sam Second",
        "I think the latency claim holds.",
    ]:
        assert secret not in text
    assert client.get(f"{BASE}/my-papers/3/reviews/").status_code == 404  # not her paper


def test_bidding_page_hides_conflicted_titles_and_saves_bids_with_htmx(client, reviewed):
    login(client, reviewed["reviewers"]["ursula"])
    text = page_text(client.get(f"{BASE}/bids/"))
    assert "Monocular depth on a Raspberry Pi" in text and "Tiny super-resolution" not in text
    assert "Alice" not in text and "Bob" not in text
    assert client.post(f"{BASE}/bids/1/", {"value": "eager"}).status_code == 404
    response = client.post(f"{BASE}/bids/2/", {"value": "eager"}, HTTP_HX_REQUEST="true")
    assert "Saved: Eager" in response.content.decode()
    assert Bid.objects.get(user=reviewed["reviewers"]["ursula"]).value == "eager"
    page = client.get(f"{BASE}/bids/?q=isp")
    assert html.text(page, id="bid-count") == "1 paper(s)."
    assert "Learned camera ISP" in page_text(page)


def test_chair_runs_previews_edits_and_commits(client, edition):
    login(client, edition["chair"])
    client.post(f"{BASE}/conflicts/")
    response = client.post(f"{BASE}/assignment/", {"action": "run", "k": "3"})
    run = AssignmentRun.objects.get()
    assert response["Location"] == f"{BASE}/assignment/runs/{run.pk}/"
    assignment_run_execute(run_id=run.pk)  # what the Celery task does (real worker: test_assignment_runs)
    text = page_text(client.get(response["Location"]))
    assert "No full assignment exists" in text
    assert "Paper #1: needs 3 reviewers, has 2; only 2 of 4 reviewers are eligible" in text
    assert "Load histogram" in page_text(client.get(f"{BASE}/assignment/"))
    response = client.post(
        f"{BASE}/assignment/",
        {"action": "add", "paper": "1", "user": edition["reviewers"]["tom"].id},
        follow=True,
    )
    assert "conflict of interest with paper #1" in page_text(response)
    client.post(f"{BASE}/assignment/", {"action": "run", "k": "2"})
    assignment_run_execute(run_id=AssignmentRun.objects.first().pk)
    assert Assignment.objects.filter(state="proposed").count() == 6
    response = client.post(f"{BASE}/assignment/", {"action": "commit"})
    assert response["Location"] == f"{BASE}/assignment/commit/"  # through the confirmation page
    fingerprint = client.get(f"{BASE}/assignment/commit/").context["check"]["fingerprint"]
    client.post(f"{BASE}/assignment/commit/", {"fingerprint": fingerprint})
    assert Assignment.objects.filter(state="committed").count() == 6


def test_chair_dismisses_conflict_with_reason_from_the_page(client, edition):
    login(client, edition["chair"])
    client.post(f"{BASE}/conflicts/")
    conflict = Conflict.objects.get(user=edition["reviewers"]["ursula"])
    text = page_text(client.get(f"{BASE}/conflicts/"))
    assert "Same institution domain: reviewer domain uni-a.edu ~ author domain uni-a.edu" in text
    response = client.post(
        f"{BASE}/conflicts/{conflict.pk}/", {"decision": "dismiss", "reason": ""}, follow=True
    )
    assert "Give a reason" in page_text(response)
    client.post(f"{BASE}/conflicts/{conflict.pk}/", {"decision": "dismiss", "reason": "Other campus"})
    client.post(f"{BASE}/conflicts/")
    conflict.refresh_from_db()
    assert conflict.state == "dismissed"


def test_decision_dashboard_sorts_and_bulk_decides(client, reviewed):
    login(client, reviewed["chair"])
    text = page_text(client.get(f"{BASE}/decisions/?sort=mean"))
    assert text.index("#2 Monocular") < text.index("#1 Tiny") < text.index("#3 Learned")
    client.post(f"{BASE}/decisions/", {"paper": ["2", "3"], "outcome": "accept"})
    assert dict(Decision.objects.values_list("paper__number", "outcome")) == {
        1: "accept",
        2: "accept",
        3: "accept",
    }


def test_invitation_link_without_account(client, edition):
    invitation = Invitation.objects.create(workshop=edition["workshop"], email="new@far-uni.edu")
    url = f"{BASE}/invitation/{invitation.token}/"
    assert "Accepting needs an account with new@far-uni.edu" in page_text(client.get(url))
    text = page_text(client.post(url, {"answer": "accept"}, follow=True))
    assert 'Status: <strong id="invitation-state">Pending</strong>' in text
    assert "create an account with new@far-uni.edu" in text
    assert client.get(f"{BASE}/invitation/not-a-token/").status_code == 404


def test_review_form_draft_and_submit(client, reviewed):
    login(client, reviewed["reviewers"]["sam"])
    response = client.post(
        f"{BASE}/papers/3/review/", {"strengths": "Better now", "action": "submit"}, follow=True
    )
    assert "To submit, fill in an overall rating" in page_text(response)
    assert "Better now" in page_text(response)
    response = client.post(
        f"{BASE}/papers/3/review/",
        {
            "rating": "4",
            "confidence": "2",
            "strengths": "Better now",
            "weaknesses": "w",
            "comments_to_authors": "c",
            "action": "submit",
        },
        follow=True,
    )
    assert "Your review was submitted." in page_text(response)
    assert "Reviewer 1" in page_text(response)  # Ursula's review of #3 is visible now


def test_an_unconfirmed_address_conflicts_but_gives_no_author_rights(client, reviewed, make_user):
    decisions_release(workshop=reviewed["workshop"], subject="s", body="b", user=reviewed["chair"])
    # Someone lists Alice's address as one of theirs without confirming it.
    mallory = make_user("mallory@evil.example", other_emails=["alice@uni-a.edu"])
    MembershipFactory(workshop=reviewed["workshop"], user=mallory, role="reviewer")
    login(client, mallory)
    assert client.get(f"{BASE}/my-papers/1/reviews/").status_code == 404
    assert client.get(f"{BASE}/my-papers/1/conflicts/").status_code == 404
    assert "Tiny super-resolution" not in page_text(client.get(f"{BASE}/bids/"))  # but conflicted
    login(client, reviewed["author"])
    assert client.get(f"{BASE}/my-papers/1/reviews/").status_code == 200


def test_a_chair_who_wrote_a_paper_never_sees_its_reviewers(client, reviewed):
    chair = reviewed["chair"]
    add_author(reviewed["papers"][1], chair)
    login(client, chair)
    assert client.get(f"{BASE}/papers/2/").status_code == 404
    text = page_text(client.get(f"{BASE}/assignment/"))
    assert "#1 Tiny" in text and "Monocular depth" not in text
    assert "Monocular depth" not in page_text(client.get(f"{BASE}/decisions/"))
    assert "Monocular depth" not in page_text(client.get(f"{BASE}/conflicts/?state=all"))
    row = Assignment.objects.filter(paper=reviewed["papers"][1]).first()
    assert client.post(f"{BASE}/assignment/", {"action": "remove", "assignment": row.pk}).status_code == 404
    assert Assignment.objects.filter(pk=row.pk).exists()


def test_author_declares_conflicts_with_committee_members(client, edition):
    sam = edition["reviewers"]["sam"]
    login(client, edition["author"])
    text = page_text(client.get(f"{BASE}/my-papers/1/conflicts/"))
    assert "Sam Second (Second Polytechnic)" in text
    client.post(f"{BASE}/my-papers/1/conflicts/", {"member": [str(sam.id)]})
    assert Conflict.objects.get(paper=edition["papers"][0], user=sam).source == "author"
    login(client, sam)
    assert "Tiny super-resolution" not in page_text(client.get(f"{BASE}/bids/"))
    login(client, edition["author"])
    client.post(f"{BASE}/my-papers/1/conflicts/", {})
    assert not Conflict.objects.filter(paper=edition["papers"][0], user=sam).exists()


def test_reviewer_profile_page_saves_expertise_load_and_declared_conflicts(client, edition):
    rita = edition["reviewers"]["rita"]
    login(client, rita)
    topic = edition["topics"][1]
    response = client.post(
        f"{BASE}/profile/",
        {
            "topics": [topic.id],
            "expertise": "Depth estimation",
            "max_load": "3",
            "conflict_institutions": "Laboratory Bexley\n",
            "conflict_domains": "",
            "conflict_emails": "",
        },
        follow=True,
    )
    assert "Your reviewer profile was saved." in page_text(response)
    assert {c.paper.number for c in Conflict.objects.filter(user=rita, source="reviewer")} == {1, 2, 3}

    profile = ReviewerProfile.objects.get(user=rita)
    assert (profile.max_load, list(profile.topics.all())) == (3, [topic])


def test_chair_checks_conflicts_before_inviting_then_sends(client, edition):
    login(client, edition["chair"])
    text = page_text(
        client.post(
            f"{BASE}/committee/",
            {"people": "Xu Lab <xu@lab-b.org>\nfree@nowhere.edu", "role": "reviewer", "action": "preview"},
        )
    )
    assert "#1: domain (reviewer domain lab-b.org ~ author domain lab-b.org)" in text
    assert "#2: domain" in text and "none found" in text
    assert not Invitation.objects.exists()
    client.post(
        f"{BASE}/committee/", {"people": "Xu Lab <xu@lab-b.org>", "role": "reviewer", "action": "send"}
    )
    assert Invitation.objects.get().email == "xu@lab-b.org"
    assert "xu@lab-b.org" in page_text(client.get(f"{BASE}/committee/"))


def test_discussion_thread_partial_follows_the_same_rules(client, reviewed):
    login(client, reviewed["reviewers"]["sam"])
    text = page_text(client.get(f"{BASE}/papers/1/discussion/thread/"))
    assert "<strong>Reviewer 1</strong>" in text and "<strong>Chair</strong>" in text
    assert "Rita" not in text and "<html" not in text
    assert (
        client.get(f"{BASE}/papers/3/discussion/thread/").status_code == 404
    )  # Sam's review of #3 is a draft
    login(client, reviewed["reviewers"]["ursula"])
    assert client.get(f"{BASE}/papers/1/discussion/thread/").status_code == 404  # conflicted
