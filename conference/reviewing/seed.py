"""Demo reviewing content for `manage.py seed_demo`: on the live edition, review settings with a
deadline, three more demo reviewers with expertise and loads, and their bids on whatever papers are
under review. Idempotent: existing rows are left as they are."""

import datetime as dt

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from conference.models import Membership, Profile, Workshop
from conference.seed import DEMO_PASSWORD

from .models import Bid, ReviewerProfile, ReviewSettings
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
    if stdout:
        stdout.write(
            f"Reviewing demo: {len(reviewers)} reviewers on {workshop.slug}, bids on {len(papers)} paper(s)"
        )
    return workshop
