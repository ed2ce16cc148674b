"""The predicates of `conference/reviewing/rules.py` asked directly: a chair (and one in conflict with
the paper), reviewers assigned (committed, only proposed, in conflict) and unassigned, the paper's
author (confirmed address) and a co-author whose address is not confirmed, a stranger, anonymous."""

from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from conference.reviewing.rules import (
    has_submitted_review,
    is_assigned_reviewer,
    is_author,
    is_author_after_release,
    is_chair_of_paper,
)
from tests.factories import (
    AssignmentFactory,
    ConflictFactory,
    DecisionFactory,
    EmailAddressFactory,
    MembershipFactory,
    PaperAuthorFactory,
    PaperFactory,
    ReviewFactory,
    UserFactory,
    WorkshopFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PEOPLE = [
    "chair",
    "conflicted_chair",
    "reviewer",
    "drafting_reviewer",
    "proposed_reviewer",
    "conflicted_reviewer",
    "unassigned_reviewer",
    "author",
    "unconfirmed_coauthor",
    "stranger",
    "anonymous",
]


@pytest.fixture
def cast():
    workshop = WorkshopFactory()
    paper = PaperFactory(workshop=workshop)

    def member(role):
        return MembershipFactory(workshop=workshop, role=role).user

    c = SimpleNamespace(
        paper=paper,
        chair=member("chair"),
        conflicted_chair=member("chair"),
        reviewer=member("reviewer"),
        drafting_reviewer=member("reviewer"),
        proposed_reviewer=member("reviewer"),
        conflicted_reviewer=member("reviewer"),
        unassigned_reviewer=member("reviewer"),
        author=UserFactory(),
        unconfirmed_coauthor=UserFactory(),
        stranger=UserFactory(),
        anonymous=AnonymousUser(),
    )
    PaperAuthorFactory(paper=paper, email=c.author.email)  # matched by the confirmed address
    # The co-author listed an address the account holds but never confirmed.
    EmailAddressFactory(user=c.unconfirmed_coauthor, email="co@lab.example", verified=False, primary=False)
    PaperAuthorFactory(paper=paper, email="co@lab.example")
    ConflictFactory(paper=paper, user=c.conflicted_chair)
    ReviewFactory(assignment=AssignmentFactory(paper=paper, user=c.reviewer))
    ReviewFactory(assignment=AssignmentFactory(paper=paper, user=c.drafting_reviewer), state="draft")
    AssignmentFactory(paper=paper, user=c.proposed_reviewer, state="proposed", number=None)
    ReviewFactory(assignment=AssignmentFactory(paper=paper, user=c.conflicted_reviewer))
    ConflictFactory(paper=paper, user=c.conflicted_reviewer, source="domain", state="suggested")
    return c


def who_passes(predicate, cast) -> set[str]:
    return {name for name in PEOPLE if predicate(getattr(cast, name), cast.paper)}


def test_chair_of_paper_unless_in_conflict(cast):
    assert who_passes(is_chair_of_paper, cast) == {"chair"}
    assert is_chair_of_paper(cast.chair, None) is False


def test_a_chair_who_wrote_the_paper_is_not_its_chair(cast):
    PaperAuthorFactory(paper=cast.paper, email=cast.chair.email)
    assert is_chair_of_paper(cast.chair, cast.paper) is False


def test_assigned_reviewer_only_with_a_committed_assignment_and_no_conflict(cast):
    assert who_passes(is_assigned_reviewer, cast) == {"reviewer", "drafting_reviewer"}
    assert is_assigned_reviewer(cast.reviewer, None) is False


def test_submitted_review_not_a_draft(cast):
    assert who_passes(has_submitted_review, cast) == {"reviewer"}


def test_author_by_a_confirmed_address_only(cast):
    assert who_passes(is_author, cast) == {"author"}
    assert is_author(cast.author, None) is False


def test_author_reads_reviews_only_after_the_release(cast):
    assert who_passes(is_author_after_release, cast) == set()
    decision = DecisionFactory(paper=cast.paper)
    assert who_passes(is_author_after_release, cast) == set()  # decided, not released
    decision.released_at = timezone.now()
    decision.save()
    assert who_passes(is_author_after_release, cast) == {"author"}


@pytest.mark.parametrize(
    ("perm", "expected"),
    [
        ("reviewing.view_paper", {"chair", "reviewer", "drafting_reviewer"}),
        ("reviewing.view_supplementary", {"chair", "reviewer", "drafting_reviewer"}),
        ("reviewing.write_review", {"reviewer", "drafting_reviewer"}),
        ("reviewing.read_reviews", {"chair", "reviewer"}),
        ("reviewing.discuss", {"chair", "reviewer"}),
        ("reviewing.decide", {"chair"}),
        ("reviewing.declare_conflicts", {"author"}),
    ],
)
def test_paper_permissions(cast, perm, expected):
    assert who_passes(lambda user, paper: rules.has_perm(perm, user, paper), cast) == expected


def test_edition_permissions(cast):
    workshop = cast.paper.workshop
    chairs = {n for n in PEOPLE if rules.has_perm("reviewing.chair_workshop", getattr(cast, n), workshop)}
    bidders = {n for n in PEOPLE if rules.has_perm("reviewing.bid_in_workshop", getattr(cast, n), workshop)}
    assert chairs == {"chair", "conflicted_chair"}  # a conflict is per paper, not per edition
    assert bidders == {
        "reviewer",
        "drafting_reviewer",
        "proposed_reviewer",
        "conflicted_reviewer",
        "unassigned_reviewer",
    }
