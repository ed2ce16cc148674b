"""The predicates of `conference/rules.py` asked directly, for each kind of person an edition has:
chair (and a chair of another edition), reviewer, area chair, site administrator, the paper's author,
co-author and submitter, someone else signed in, and an anonymous visitor."""

from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser

from conference.rules import is_chair, is_paper_author, is_paper_chair, is_reviewer
from tests.factories import MembershipFactory, PaperAuthorFactory, PaperFactory, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PEOPLE = [
    "chair",
    "other_chair",
    "reviewer",
    "area_chair",
    "superuser",
    "author",
    "coauthor",
    "submitter",
    "stranger",
    "anonymous",
]


@pytest.fixture
def cast():
    workshop, elsewhere = WorkshopFactory(), WorkshopFactory()
    people = SimpleNamespace(
        workshop=workshop,
        chair=MembershipFactory(workshop=workshop, role="chair").user,
        other_chair=MembershipFactory(workshop=elsewhere, role="chair").user,
        reviewer=MembershipFactory(workshop=workshop, role="reviewer").user,
        area_chair=MembershipFactory(workshop=workshop, role="area_chair").user,
        superuser=UserFactory(is_superuser=True),
        author=UserFactory(),
        coauthor=UserFactory(),
        submitter=UserFactory(),
        stranger=UserFactory(),
        anonymous=AnonymousUser(),
    )
    people.paper = PaperFactory(workshop=workshop, submitter=people.submitter)
    for user in (people.author, people.coauthor):
        PaperAuthorFactory(paper=people.paper, user=user, email=user.email)
    PaperAuthorFactory(paper=people.paper, email="no-account@uni.example")  # an author without account
    return people


def who_passes(predicate, cast, obj) -> set[str]:
    return {name for name in PEOPLE if predicate(getattr(cast, name), obj)}


def test_is_chair_only_the_editions_chairs_and_site_administrators(cast):
    assert who_passes(is_chair, cast, cast.workshop) == {"chair", "superuser"}
    assert is_chair(cast.chair, None) is False


def test_is_reviewer_reviewers_and_area_chairs_of_the_edition(cast):
    assert who_passes(is_reviewer, cast, cast.workshop) == {"reviewer", "area_chair"}
    assert is_reviewer(cast.reviewer, WorkshopFactory()) is False
    assert is_reviewer(cast.reviewer, None) is False


def test_is_paper_author_linked_authors_and_the_submitter(cast):
    assert who_passes(is_paper_author, cast, cast.paper) == {"author", "coauthor", "submitter"}
    assert is_paper_author(cast.author, None) is False


def test_is_paper_chair_the_papers_editions_chairs(cast):
    assert who_passes(is_paper_chair, cast, cast.paper) == {"chair", "superuser"}
    assert is_paper_chair(cast.chair, None) is False


@pytest.mark.parametrize(
    ("perm", "expected"),
    [
        ("conference.paper_see", {"chair", "superuser", "author", "coauthor", "submitter"}),
        ("conference.paper_edit", {"author", "coauthor", "submitter"}),
        ("conference.paper_withdraw", {"chair", "superuser", "author", "coauthor", "submitter"}),
        ("conference.paper_extend", {"chair", "superuser"}),
    ],
)
def test_paper_permissions(cast, perm, expected):
    assert who_passes(lambda user, paper: rules.has_perm(perm, user, paper), cast, cast.paper) == expected


def test_workshop_permissions(cast):
    def manage(user, workshop):
        return rules.has_perm("conference.manage_workshop", user, workshop)

    def review(user, workshop):
        return rules.has_perm("conference.review_in_workshop", user, workshop)

    assert who_passes(manage, cast, cast.workshop) == {"chair", "superuser"}
    assert who_passes(review, cast, cast.workshop) == {"chair", "superuser", "reviewer", "area_chair"}
