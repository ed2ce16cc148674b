"""Fixtures of the camera-ready tests: an edition whose decisions are released, an accepted paper with
three authors (the first has an account), a chair, a reviewer, and the camera-ready LaTeX papers."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.cameraready import latex
from tests.factories import (
    DecisionFactory,
    ImportantDateFactory,
    MembershipFactory,
    PaperAuthorFactory,
    PaperFactory,
    WorkshopFactory,
)


@pytest.fixture(scope="session")
def final_pdfs(tmp_path_factory) -> dict:
    """Every camera-ready variant compiled once per session (cached on disk by source hash), as files."""
    from tests.latex.papers import pdflatex_available

    if not pdflatex_available():
        pytest.fail("pdflatex is missing: `make system-packages` installs Debian's TeX Live.")
    folder = tmp_path_factory.mktemp("final")
    paths = {}
    for name in (
        "final_paper",
        "review_version_with_names",
        "anonymous_review_version",
        "final_paper_with_unembedded_figure_font",
        "final_paper_with_unembedded_body_font",
    ):
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(getattr(latex, name)())
    paths["misnamed"] = folder / "misnamed.pdf"
    paths["misnamed"].write_bytes(latex.final_paper_named(r"Alice Martin\quad Bruno Keler\\ ETH Zurich"))
    return paths


@pytest.fixture
def edition(db):
    workshop = WorkshopFactory(slug="mai-cr", name="Mobile AI Camera-ready Workshop", short_name="MAI CR")
    ImportantDateFactory(workshop=workshop, kind="camera_ready", at=timezone.now() + dt.timedelta(days=10))
    return workshop


@pytest.fixture
def alice(make_user):
    return make_user(email="alice@ethz.example", full_name="Alice Martin", affiliation="ETH Zurich")


@pytest.fixture
def chair(make_user, edition):
    user = make_user(email="chair@chairs.example", full_name="Chris Chair")
    MembershipFactory(workshop=edition, user=user, role="chair")
    return user


@pytest.fixture
def reviewer(make_user, edition):
    user = make_user(email="rita@reviewers.example", full_name="Rita Reviewer")
    MembershipFactory(workshop=edition, user=user, role="reviewer")
    return user


def _paper(edition, number, status, authors):
    paper = PaperFactory(
        workshop=edition,
        number=number,
        title=latex.TITLE if number == 1 else f"Paper {number}",
        abstract="We study networks for smartphone NPUs.",
        status=status,
    )
    for order, (name, email, user) in enumerate(authors):
        PaperAuthorFactory(
            paper=paper, order=order, name=name, email=email, affiliation="ETH Zurich", user=user
        )
    DecisionFactory(
        paper=paper,
        outcome="accept" if status == "accepted" else "reject",
        released_at=timezone.now() - dt.timedelta(days=1),
    )
    return paper


@pytest.fixture
def accepted(edition, alice):
    """Paper #1, accepted (decision released), by Alice Martin (account), Bruno Keller, Chiara Rossi."""
    return _paper(
        edition,
        1,
        "accepted",
        [
            ("Alice Martin", "alice@ethz.example", alice),
            ("Bruno Keller", "bruno@ethz.example", None),
            ("Chiara Rossi", "chiara@ethz.example", None),
        ],
    )


@pytest.fixture
def rejected(edition, make_user):
    """Paper #2, rejected, by Dan Other."""
    dan = make_user(email="dan@other.example", full_name="Dan Other")
    return _paper(edition, 2, "rejected", [("Dan Other", "dan@other.example", dan)])
