"""Fixtures of the paper tests: an edition with an open submission window, its challenge, authors."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conference.models import ImportantDate, Membership, Topic, Workshop
from tests import pdf_factory


@pytest.fixture
def edition(db):
    now = timezone.now()
    workshop = Workshop.objects.create(
        slug="mai-test",
        name="Mobile AI Test Workshop",
        short_name="MAI Test",
        host_conference="CVPR 2030",
        start_date=(now + dt.timedelta(days=60)).date(),
        end_date=(now + dt.timedelta(days=60)).date(),
        dual_submission_policy="Only with CVPR.",
    )
    for order, name in enumerate(["Efficient models", "Image enhancement", "Quantization"]):
        Topic.objects.create(workshop=workshop, name=name, order=order)
    K = ImportantDate.Kind
    ImportantDate.objects.create(workshop=workshop, kind=K.SUBMISSION_OPEN, at=now - dt.timedelta(days=10))
    ImportantDate.objects.create(workshop=workshop, kind=K.PAPER_DEADLINE, at=now + dt.timedelta(days=5))
    ImportantDate.objects.create(
        workshop=workshop, kind=K.CHALLENGE_PAPER_DEADLINE, at=now + dt.timedelta(days=20)
    )
    from challenges.models import Challenge

    Challenge.objects.create(workshop=workshop, slug="isp", title="Learned Smartphone ISP")
    return workshop


@pytest.fixture
def author(make_user):
    return make_user(
        email="alex@mobile.example", full_name="Alex Author", affiliation="Institute of Mobile Vision"
    )


@pytest.fixture
def chair(make_user, edition):
    user = make_user(email="chair@chairs.example", full_name="Chris Chair")
    Membership.objects.create(workshop=edition, user=user, role=Membership.Role.CHAIR)
    return user


def pdf_upload(data: bytes | None = None, name: str = "my paper.pdf", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data if data is not None else pdf_factory.paper_pdf(**kwargs), content_type="application/pdf"
    )
