"""Demo reviewing content for `manage.py seed_demo`: on the live edition, review settings with a
deadline, three more demo reviewers with expertise and loads, and their bids on whatever papers are
under review. The demo papers are then put in every state a paper goes through (`PAPER_STATES`, by
paper number): #1 submitted (bids only), #2 under review (committed reviewers, one review submitted,
the demo reviewer's still a draft), #3 decided (reviews, meta-review and an accept decision not yet
released), #4 released (the decision released, the paper accepted). Rows are written directly, as the
reviewing services would leave them, without mail. Idempotent: existing rows are left as they are."""

import datetime as dt

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from conference.models import Membership, Paper, Profile, Workshop
from conference.seed import DEMO_PASSWORD

from .models import Assignment, Bid, Decision, MetaReview, Review, ReviewerProfile, ReviewSettings
from .selectors import conflicted_paper_ids, papers_under_review

DEMO_REVIEWERS = [
    (
        "morgan.mobile@example.com",
        "Morgan Mobile",
        "Edge Vision Institute",
        [1, 13, 14],
        "Efficient convolutional networks, pruning and quantization for smartphone NPUs.",
    ),
    (
        "jordan.jpeg@example.com",
        "Jordan Jpeg",
        "Camera Pipeline Lab",
        [2, 3, 4, 12],
        "Learned ISPs, image denoising and super-resolution on low-power hardware.",
    ),
    (
        "taylor.tensor@example.com",
        "Taylor Tensor",
        "Depth and Robotics Group",
        [8, 5],
        "Monocular depth estimation, stereo and real-time segmentation on embedded boards.",
    ),
]
BID_CYCLE = [Bid.Value.EAGER, Bid.Value.WILLING, Bid.Value.NOT_WILLING]


@transaction.atomic
def seed_demo(*, stdout=None):
    workshop = Workshop.objects.filter(slug="mai-live").first()
    if workshop is None:
        return None
    ReviewSettings.objects.get_or_create(
        workshop=workshop, defaults={"review_deadline": timezone.now() + dt.timedelta(days=14)}
    )
    User = get_user_model()
    topics = list(workshop.topics.all())
    reviewers = []
    for email, name, affiliation, topic_indexes, expertise in DEMO_REVIEWERS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                username=email,
                email=email,
                password=DEMO_PASSWORD,
                first_name=name.split()[0],
                last_name=name.split()[-1],
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Profile.objects.create(user=user, full_name=name, affiliation=affiliation)
        Membership.objects.get_or_create(workshop=workshop, user=user, role=Membership.Role.REVIEWER)
        profile, created = ReviewerProfile.objects.get_or_create(
            workshop=workshop, user=user, defaults={"expertise": expertise, "max_load": 4}
        )
        if created:
            profile.topics.set([topics[i] for i in topic_indexes if i < len(topics)])
        reviewers.append(user)
    demo_reviewer = User.objects.filter(email="reviewer@example.com").first()
    if demo_reviewer:
        reviewers.append(demo_reviewer)
    papers = list(papers_under_review(workshop=workshop).order_by("number"))
    for j, user in enumerate(reviewers):
        hidden = conflicted_paper_ids(workshop=workshop, user=user)
        for i, paper in enumerate(papers):
            if paper.id not in hidden and (i + j) % 2 == 0:
                Bid.objects.get_or_create(paper=paper, user=user, defaults={"value": BID_CYCLE[(i + j) % 3]})
    _seed_paper_states(workshop, reviewers)
    if stdout:
        stdout.write(
            f"Reviewing demo: {len(reviewers)} reviewers on {workshop.slug}, bids on {len(papers)} paper(s)"
        )
    return workshop


# Paper number → the state the demo shows it in.
PAPER_STATES = {2: "under_review", 3: "decided", 4: "released"}
DEMO_REVIEWS = [
    (4, 3, "A clear latency study on real hardware.", "The ablation on input size is missing."),
    (3, 2, "Simple method, honest numbers.", "Compare with the challenge's top entries."),
]


def _seed_paper_states(workshop: Workshop, reviewers: list) -> None:
    chair = (
        Membership.objects.filter(workshop=workshop, role=Membership.Role.CHAIR)
        .select_related("user")
        .first()
    )
    now = timezone.now()
    for number, state in PAPER_STATES.items():
        paper = Paper.objects.filter(workshop=workshop, number=number).first()
        if paper is None or paper.assignments.exists():
            continue
        eligible = [u for u in reviewers if paper.id not in conflicted_paper_ids(workshop=workshop, user=u)]
        # Under review: the demo reviewer (last in the list) holds the draft, so they see work to do.
        chosen = eligible[-2:] if state == "under_review" else eligible[:2]
        for index, user in enumerate(chosen, start=1):
            assignment = Assignment.objects.create(
                paper=paper,
                user=user,
                state=Assignment.State.COMMITTED,
                number=index,
                manual=True,
                committed_at=now - dt.timedelta(days=3),
            )
            rating, confidence, strengths, weaknesses = DEMO_REVIEWS[(index - 1) % len(DEMO_REVIEWS)]
            draft = state == "under_review" and index == len(chosen)
            Review.objects.create(
                assignment=assignment,
                rating=rating,
                confidence=confidence,
                strengths=strengths,
                weaknesses=weaknesses,
                justification="Demo review.",
                comments_to_authors="Thank you for the submission (demo review).",
                state=Review.State.DRAFT if draft else Review.State.SUBMITTED,
                submitted_at=None if draft else now - dt.timedelta(days=1),
            )
        if state in ("decided", "released"):
            MetaReview.objects.get_or_create(
                paper=paper,
                defaults={"user": chair.user if chair else None, "text": "Both reviewers lean to accept."},
            )
            Decision.objects.get_or_create(
                paper=paper,
                defaults={
                    "outcome": Decision.Outcome.ACCEPT,
                    "decided_by": chair.user if chair else None,
                    "released_at": now if state == "released" else None,
                },
            )
        if state == "released":
            Paper.objects.filter(pk=paper.pk).update(status=Paper.Status.ACCEPTED)
