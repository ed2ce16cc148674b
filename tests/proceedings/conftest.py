"""Fixtures of the proceedings tests: an edition held like MAI 2021 (CVPR 2021, Pacific time) whose
decisions are released, its chair, a reviewer, accepted papers with checked camera-ready PDFs (real
WeasyPrint-made PDFs stored as h3's `FinalVersion` rows), and a two-session programme."""

import datetime as dt
import zoneinfo

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from conference.cameraready.models import CameraReady, FinalVersion
from conference.models import Organiser, Paper
from tests import pdf_factory
from tests.factories import ChallengeFactory, MembershipFactory, TopicFactory, WorkshopFactory, make_paper

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


def pacific(hour: int, minute: int = 0) -> dt.datetime:
    """An instant on the workshop day (25 June 2021) in Pacific time."""
    return dt.datetime(2021, 6, 25, hour, minute, tzinfo=PACIFIC)


@pytest.fixture
def edition(db):
    workshop = WorkshopFactory(
        slug="mai-proc",
        name="Mobile AI Workshop 2021",
        short_name="MAI 2021",
        host_conference="CVPR 2021",
        location="Virtual",
        start_date=dt.date(2021, 6, 25),
        end_date=dt.date(2021, 6, 25),
    )
    for order, name in enumerate(["Image enhancement", "Quantization"]):
        TopicFactory(workshop=workshop, name=name, order=order)
    Organiser.objects.create(workshop=workshop, name="Andrey Ignatov", affiliation="ETH Zurich", order=0)
    Organiser.objects.create(workshop=workshop, name="Radu Timofte", affiliation="ETH Zurich", order=1)
    ChallengeFactory(workshop=workshop, slug="isp", title="Learned Smartphone ISP")
    return workshop


@pytest.fixture
def chair(make_user, edition):
    user = make_user(email="chair@chairs.example", full_name="Chris Chair")
    MembershipFactory(workshop=edition, user=user, role="chair")
    return user


@pytest.fixture
def reviewer(make_user, edition):
    user = make_user(email="rita@reviewers.example", full_name="Rita Reviewer", affiliation="Vision Lab")
    MembershipFactory(workshop=edition, user=user, role="reviewer")
    return user


def final_pdf_bytes(pages: int) -> bytes:
    """A camera-ready of `pages` pages (body, then one page of references)."""
    return pdf_factory.paper_pdf(body_pages=pages - 1, reference_pages=1, title="Camera-ready paper")


def accept(workshop, number, title, authors, *, pages=4, challenge=None, topics=(), with_pdf=True) -> Paper:
    """An accepted paper (decision released) with a checked camera-ready PDF of `pages` pages.
    `authors`: (name, e-mail, affiliation) in order."""
    paper = make_paper(
        workshop,
        number,
        title,
        f"The abstract of {title}.",
        [(name, email, affiliation, None) for name, email, affiliation in authors],
        topics=topics,
        status=Paper.Status.ACCEPTED,
    )
    if challenge is not None:
        Paper.objects.filter(pk=paper.pk).update(kind=Paper.Kind.CHALLENGE, challenge=challenge)
        paper.refresh_from_db()
    if with_pdf:
        task = CameraReady.objects.create(paper=paper)
        version = FinalVersion(
            camera_ready=task, number=1, check_state=FinalVersion.CheckState.PASSED, checked_at=timezone.now()
        )
        data = final_pdf_bytes(pages)
        version.size = len(data)
        version.pdf.save("final.pdf", ContentFile(data), save=False)
        version.save()
    return paper


@pytest.fixture
def accepted(edition):
    """Three accepted papers: #1 (4 pages), #2 a challenge paper with an accented first author (3 pages),
    #3 (5 pages)."""
    challenge = edition.challenges.get(slug="isp")
    topics = list(edition.topics.all())
    return [
        accept(
            edition,
            1,
            "Real-Time Learned ISP for Smartphone Cameras",
            [
                ("Alex Author", "alex@mobile.example", "Institute of Mobile Vision"),
                ("Bo Li", "bo@npu.example", "NPU Lab"),
            ],
            pages=4,
            topics=[topics[0]],
        ),
        accept(
            edition,
            2,
            "Fast Camera Image Denoising on Mobile GPUs With Deep Learning, Mobile AI 2021 Challenge: Report",
            [
                ("Jörg Müller", "jorg@tum.example", "TU München"),
                ("Alex Author", "alex@mobile.example", "Institute of Mobile Vision"),
            ],
            pages=3,
            challenge=challenge,
            topics=[topics[0]],
        ),
        accept(
            edition,
            3,
            "Quantized Super-Resolution & Its 8-bit Friends",
            [("Chen Wei", "chen@edge.example", "Edge AI Startup")],
            pages=5,
            topics=[topics[1]],
        ),
    ]


@pytest.fixture
def programme(edition, accepted):
    """Two sessions in one room: session 1 presents paper #3 then #1, session 2 paper #2 (the
    challenge paper) after a break; page ranges follow this order (#3, #1, #2)."""
    from conference.proceedings import services

    first = services.session_save(
        workshop=edition,
        title="Session 1: Efficient models",
        room="Room A",
        chair_name="Radu Timofte",
        starts_at=pacific(8),
        ends_at=pacific(10),
    )
    second = services.session_save(
        workshop=edition,
        title="Session 2: Challenges",
        room="Room A",
        chair_name="",
        starts_at=pacific(10, 30),
        ends_at=pacific(12),
    )
    services.slot_save(
        session=first, kind="paper", starts_at=pacific(8), ends_at=pacific(8, 30), paper=accepted[2]
    )
    services.slot_save(
        session=first, kind="paper", starts_at=pacific(8, 30), ends_at=pacific(9), paper=accepted[0]
    )
    services.slot_save(
        session=second, kind="break", starts_at=pacific(10, 30), ends_at=pacific(10, 45), title="Coffee break"
    )
    services.slot_save(
        session=second, kind="paper", starts_at=pacific(10, 45), ends_at=pacific(11, 15), paper=accepted[1]
    )
    return [first, second]
