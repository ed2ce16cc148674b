"""A small edition under review: a chair, four reviewers, three papers by three authors, with the
original PDFs (author names in their metadata) and the anonymised review copies the paper side makes."""

import re

import pytest

from conference.reviewing import assignment_services
from conference.reviewing.domain.assignments import assignment_add
from conference.reviewing.domain.conflicts import conflicts_detect
from conference.reviewing.domain.decisions import decision_set
from conference.reviewing.domain.discussion import comment_post, meta_review_save
from conference.reviewing.domain.reviews import review_save
from conference.reviewing.models import Assignment
from tests.factories import MembershipFactory, PaperAuthorFactory, TopicFactory, WorkshopFactory, make_paper

AUTHORS = {
    "alice": ("Alice Authorson", "alice@uni-a.edu", "University of Anonymia"),
    "bob": ("Bob Builderberg", "bob@lab-b.org", "Laboratory Bexley"),
    "carol": ("Carol Coauthorova", "carol@inst-c.edu", "Institute Carolinum"),
    "tom-alt": ("Thomas T. Third", "t.third@inst-c.edu", "Institute Carolinum"),
}


@pytest.fixture
def edition(db, make_user):
    workshop = WorkshopFactory(
        slug="rev-test",
        name="Review Test Workshop",
        short_name="RTW",
        host_conference="CVPR 2021",
        start_date="2021-06-19",
    )
    topics = [
        TopicFactory(workshop=workshop, name=n, order=i)
        for i, n in enumerate(["Super-resolution", "Depth estimation", "Quantization"])
    ]
    chair = make_user(
        "chair@chairs-univ.edu", full_name="Charlotte Chairwoman", affiliation="Chair University"
    )
    MembershipFactory(workshop=workshop, user=chair, role="chair")
    reviewers = {
        "rita": make_user("rita@rev-one.edu", full_name="Rita Reviewer", affiliation="Reviewer College One"),
        "sam": make_user("sam@rev-two.edu", full_name="Sam Second", affiliation="Second Polytechnic"),
        # Tom listed an unconfirmed address at Carol's institute: he co-authored paper 3 with it.
        "tom": make_user(
            "tom@rev-three.edu",
            full_name="Tom Thirdman",
            affiliation="Third Academy",
            other_emails=["t.third@inst-c.edu"],
        ),
        # Ursula shares Alice's institution domain.
        "ursula": make_user("ursula@uni-a.edu", full_name="Ursula Unique", affiliation="Other Department"),
    }
    for user in reviewers.values():
        MembershipFactory(workshop=workshop, user=user, role="reviewer")
    alice = make_user(AUTHORS["alice"][1], full_name=AUTHORS["alice"][0], affiliation=AUTHORS["alice"][2])
    a, b, c, t = AUTHORS["alice"], AUTHORS["bob"], AUTHORS["carol"], AUTHORS["tom-alt"]
    papers = [
        make_paper(
            workshop,
            1,
            "Tiny super-resolution networks for phones",
            "We present a quantized super-resolution network that runs in real time on mobile NPUs.",
            [(*a, alice), (*b, None)],
            topics=[topics[0], topics[2]],
        ),
        make_paper(
            workshop,
            2,
            "Monocular depth on a Raspberry Pi",
            "Depth estimation from a single image on an ARM CPU with a lightweight encoder-decoder.",
            [(*b, None)],
            topics=[topics[1]],
        ),
        make_paper(
            workshop,
            3,
            "Learned camera ISP with integer arithmetic",
            "A learned image signal processor using full integer quantization for smartphone cameras.",
            [(*c, None), (*t, None), (*b, None)],
            topics=[topics[2]],
        ),
    ]
    return {
        "workshop": workshop,
        "chair": chair,
        "reviewers": reviewers,
        "papers": papers,
        "topics": topics,
        "author": alice,
    }


def add_author(paper, user):
    """The user (e.g. the chair) listed as one more author of the paper, with the account linked: from
    now on in conflict with it."""
    return PaperAuthorFactory(
        paper=paper,
        order=5,
        name=user.profile.full_name,
        email=user.email,
        affiliation=user.profile.affiliation,
        user=user,
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def reviewed(edition):
    """The edition in the middle of discussion: conflicts detected, assignments committed, reviews
    (one draft), a discussion message, a meta-review and recorded (unreleased) decisions."""
    ws, r, papers, chair = edition["workshop"], edition["reviewers"], edition["papers"], edition["chair"]
    conflicts_detect(workshop=ws)
    for number, key in [(1, "rita"), (1, "sam"), (2, "sam"), (2, "ursula"), (3, "ursula"), (3, "sam")]:
        assignment_add(paper=papers[number - 1], user=r[key])
    assignment_services.assignments_commit(workshop=ws)
    full = {
        "confidence": 3,
        "strengths": "Clear writing.",
        "weaknesses": "Few baselines.",
        "justification": "Solid.",
        "comments_to_authors": "Please add latency on more phones.",
        "confidential_comments": "CONFIDENTIAL-NOTE-FOR-CHAIRS",
    }
    for number, key, rating in [(1, "rita", 4), (1, "sam", 2), (2, "sam", 5), (3, "ursula", 3)]:
        a = Assignment.objects.get(paper=papers[number - 1], user=r[key])
        review_save(assignment=a, data={**full, "rating": rating}, submit=True)
    review_save(
        assignment=Assignment.objects.get(paper=papers[2], user=r["sam"]),
        data={"strengths": "draft only"},
        submit=False,
    )
    comment_post(paper=papers[0], user=r["rita"], text="I think the latency claim holds.", as_chair=False)
    comment_post(paper=papers[0], user=chair, text="Please converge by Friday.", as_chair=True)
    meta_review_save(paper=papers[0], user=chair, text="The reviewers agree on the contribution.")
    decision_set(papers=[papers[0]], outcome="accept", user=chair)
    decision_set(papers=[papers[1]], outcome="reject", user=chair)
    return edition
