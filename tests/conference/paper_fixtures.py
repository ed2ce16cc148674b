"""Fixtures of the paper tests: an edition with an open submission window, its challenge, authors."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import pdf_factory
from tests.factories import (
    ChallengeFactory,
    ImportantDateFactory,
    MembershipFactory,
    TopicFactory,
    WorkshopFactory,
)


@pytest.fixture
def edition(db):
    now = timezone.now()
    workshop = WorkshopFactory(
        slug="mai-test",
        name="Mobile AI Test Workshop",
        short_name="MAI Test",
        dual_submission_policy="Only with CVPR.",
    )
    for order, name in enumerate(["Efficient models", "Image enhancement", "Quantization"]):
        TopicFactory(workshop=workshop, name=name, order=order)
    for kind, days in [("submission_open", -10), ("paper_deadline", 5), ("challenge_paper_deadline", 20)]:
        ImportantDateFactory(workshop=workshop, kind=kind, at=now + dt.timedelta(days=days))
    ChallengeFactory(workshop=workshop, slug="isp", title="Learned Smartphone ISP")
    return workshop


@pytest.fixture
def author(make_user):
    return make_user(
        email="alex@mobile.example", full_name="Alex Author", affiliation="Institute of Mobile Vision"
    )


@pytest.fixture
def chair(make_user, edition):
    user = make_user(email="chair@chairs.example", full_name="Chris Chair")
    MembershipFactory(workshop=edition, user=user, role="chair")
    return user


def pdf_upload(data: bytes | None = None, name: str = "my paper.pdf", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data if data is not None else pdf_factory.paper_pdf(**kwargs), content_type="application/pdf"
    )
