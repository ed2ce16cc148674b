"""The demo content: the MAI 2021 workshop as it was, a live edition dated relative to today so every
phase can be tried, and four demo accounts. Idempotent: existing rows are never overwritten, so a
second run keeps what users changed."""

import datetime as dt
import io
import zoneinfo

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import (
    ImportantDate,
    Membership,
    Organiser,
    Paper,
    PaperAuthor,
    PaperChange,
    PaperVersion,
    Profile,
    Topic,
    Workshop,
)
from .services import paper_version_check

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
DEMO_PASSWORD = "mai-demo-2021"

MAI_TOPICS = [
    "Efficient deep learning models for mobile devices",
    "Image / video super-resolution on low-power hardware",
    "General smartphone photo and video enhancement",
    "Deep learning applications for mobile camera ISPs",
    "Fast image classification / object detection algorithms",
    "Real-time semantic image segmentation",
    "Image or sensor based identity recognition",
    "Activity recognition using smartphone sensors",
    "Depth estimation w/o multiple cameras",
    "Portrait segmentation / bokeh effect rendering",
    "Perceptual image manipulation on mobile devices",
    "NLP models optimized for mobile inference",
    "Artifacts removal from mobile photos / videos",
    "RAM and computationally efficient models",
    "Deep learning model quantization and compression",
    "Machine learning in mobile cloud computing",
    "Adversarial attacks and defenses on mobile devices",
    "Benchmarking and evaluation of mobile AI hardware",
]

DUAL_POLICY = (
    "Papers under review elsewhere may not be submitted, with one exception: a paper submitted to the "
    "CVPR 2021 main conference may be submitted here too; declare its CVPR submission ID."
)

DEMO_USERS = [
    # (email, full name, affiliation, role)
    ("chair@example.com", "Chris Chair", "Computer Vision Lab, ETH Zurich", "chair"),
    ("reviewer@example.com", "Riley Reviewer", "University of Reviewing", "reviewer"),
    ("author@example.com", "Alex Author", "Institute of Mobile Vision", "author"),
    ("participant@example.com", "Pat Participant", "Edge AI Startup", "participant"),
]


def at_5pm_pacific(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 17, 0, tzinfo=PACIFIC)


def _create_workshop(
    *, slug: str, defaults: dict, dates: list[tuple[str, dt.datetime]]
) -> tuple[Workshop, bool]:
    workshop, created = Workshop.objects.get_or_create(slug=slug, defaults=defaults)
    if created:
        for order, name in enumerate(MAI_TOPICS):
            Topic.objects.create(workshop=workshop, name=name, order=order)
        for order, (name, affiliation) in enumerate(
            [
                ("Andrey Ignatov", "Computer Vision Lab, ETH Zurich"),
                ("Radu Timofte", "Computer Vision Lab, ETH Zurich"),
            ]
        ):
            Organiser.objects.create(workshop=workshop, name=name, affiliation=affiliation, order=order)
        for kind, when in dates:
            ImportantDate.objects.create(workshop=workshop, kind=kind, at=when)
    return workshop, created


def demo_live_dates(today: dt.date) -> dict[str, dt.datetime]:
    """Dates of the live edition: paper submission open now, challenges in their validation phase."""

    def day(offset: int) -> dt.datetime:
        d = today + dt.timedelta(days=offset)
        return at_5pm_pacific(d.year, d.month, d.day)

    return {
        "submission_open": day(-10),
        "paper_deadline": day(30),
        "notification": day(51),
        "camera_ready": day(61),
        "challenge_paper_deadline": day(48),
        "workshop": day(90),
        # challenge milestones, used by the challenges app's seed
        "website": day(-18),
        "train_data": day(-10),
        "validation_server": day(-5),
        "test_data": day(30),
        "final_deadline": day(35),
        "factsheet_deadline": day(35),
        "preliminary_results": day(37),
        "challenge_papers": day(48),
    }


MAI_2021_CHALLENGE_DATES = {
    "website": at_5pm_pacific(2021, 1, 7),
    "train_data": at_5pm_pacific(2021, 1, 15),
    "validation_server": at_5pm_pacific(2021, 1, 20),
    "test_data": at_5pm_pacific(2021, 3, 15),
    "final_deadline": at_5pm_pacific(2021, 3, 20),
    "factsheet_deadline": at_5pm_pacific(2021, 3, 20),
    "preliminary_results": at_5pm_pacific(2021, 3, 22),
    "challenge_papers": at_5pm_pacific(2021, 4, 2),
}


COMMON_DEFAULTS = {
    "host_conference": "CVPR 2021",
    "host_conference_url": "https://cvpr2021.thecvf.com/",
    "time_zone": "America/Los_Angeles",
    "page_limit": 8,
    "references_excluded": True,
    "double_column": True,
    "paper_size": "US Letter",
    "template_url": "https://github.com/cvpr-org/author-kit",
    "language": "English",
    "double_blind": True,
    "dual_submission_with_host_allowed": True,
    "dual_submission_policy": DUAL_POLICY,
    "description": (
        "The Mobile AI workshop gathers research on efficient deep learning for smartphones, embedded "
        "and IoT platforms. All challenge solutions are evaluated on real mobile hardware."
    ),
}


@transaction.atomic
def seed_demo(*, stdout=None) -> dict[str, Workshop]:
    """The two editions, the demo accounts and their roles, and two checked demo papers."""
    mai2021 = _seed_mai2021()
    demo = _seed_live_edition()
    _seed_accounts([mai2021, demo])
    _seed_demo_papers(demo)
    if stdout:
        stdout.write("Demo workshops: /mai-2021/ and /mai-live/")
    return {"mai-2021": mai2021, "mai-live": demo}


def _seed_mai2021() -> Workshop:
    """MAI 2021 as it was (CVPR 2021, its published dates)."""
    K = ImportantDate.Kind
    mai2021, _ = _create_workshop(
        slug="mai-2021",
        defaults={
            **COMMON_DEFAULTS,
            "name": "Mobile AI Workshop 2021",
            "short_name": "MAI 2021",
            "location": "Virtual (CVPR 2021)",
            "start_date": dt.date(2021, 6, 25),
            "end_date": dt.date(2021, 6, 25),
        },
        dates=[
            (K.SUBMISSION_OPEN, at_5pm_pacific(2021, 1, 15)),
            (K.PAPER_DEADLINE, at_5pm_pacific(2021, 3, 15)),
            (K.CHALLENGE_PAPER_DEADLINE, at_5pm_pacific(2021, 4, 2)),
            (K.NOTIFICATION, at_5pm_pacific(2021, 4, 5)),
            (K.CAMERA_READY, at_5pm_pacific(2021, 4, 15)),
        ],
    )
    return mai2021


def _seed_live_edition() -> Workshop:
    """The live edition, dated relative to today (Pacific time) so every phase can be tried."""
    K = ImportantDate.Kind
    live = demo_live_dates(timezone.localdate(timezone=PACIFIC))
    workshop_day = live["workshop"].date()
    demo, _ = _create_workshop(
        slug="mai-live",
        defaults={
            **COMMON_DEFAULTS,
            "name": "Mobile AI Workshop (live demo edition)",
            "short_name": "MAI Live",
            "host_conference": "CVPR (demo)",
            "location": "Online",
            "start_date": workshop_day,
            "end_date": workshop_day,
        },
        dates=[
            (K.SUBMISSION_OPEN, live["submission_open"]),
            (K.PAPER_DEADLINE, live["paper_deadline"]),
            (K.CHALLENGE_PAPER_DEADLINE, live["challenge_paper_deadline"]),
            (K.NOTIFICATION, live["notification"]),
            (K.CAMERA_READY, live["camera_ready"]),
        ],
    )
    return demo


def _seed_accounts(workshops: list[Workshop]) -> None:
    """The demo accounts (verified address, profile), their roles in `workshops`, and the chair's
    model permissions for the admin."""
    User = get_user_model()
    for email, full_name, affiliation, role in DEMO_USERS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                username=email,
                email=email,
                password=DEMO_PASSWORD,
                first_name=full_name.split()[0],
                last_name=full_name.split()[-1],
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Profile.objects.create(
                user=user,
                full_name=full_name,
                affiliation=affiliation,
                institution_domains=[email.split("@")[1]],
            )
            if role == "chair":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        for workshop in workshops:
            if role in ("chair", "reviewer"):
                Membership.objects.get_or_create(workshop=workshop, user=user, role=role)
    if role_chair := User.objects.filter(email="chair@example.com").first():
        role_chair.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=["conference", "reviewing", "challenges", "evaluation"]
            )
        )


DEMO_PAPERS = [
    (
        "Real-Time Learned ISP for Smartphone Cameras",
        "We replace the camera ISP of a smartphone with a small network that runs in 30 ms on its NPU.",
        [0, 3],
        7,
    ),
    (
        "Quantized Super-Resolution under 10 ms on Mobile NPUs",
        "An INT8 super-resolution network with a quantization-aware training recipe for mobile NPUs.",
        [1, 14],
        6,
    ),
    # The reviewing seed takes these two further: one decided (not released), one released.
    (
        "Monocular Depth on a Raspberry Pi in Real Time",
        "A depth network distilled for the Raspberry Pi 4 CPU that keeps its si-RMSE within 5 percent.",
        [8, 13],
        7,
    ),
    (
        "Camera Scene Detection with Full-Integer Networks",
        "Thirty camera scenes recognised by a full-INT8 classifier in 2 ms on a phone NPU.",
        [4, 14],
        6,
    ),
]


def _demo_pdf(title: str, body_pages: int) -> bytes:
    """A small two-column paper written by hand (Times-Roman, 10 pt) with a references page: fast
    enough for every seed run, real enough for the PDF checks."""
    line = "Mobile networks run under strict latency budgets on phones and NPUs"
    pages = []
    for number in range(body_pages + 1):
        ops = ["BT /F1 10 Tf 12 TL"]
        if number == body_pages:
            ops.append("58 720 Td (References) Tj T*")
            ops += [
                f"([{i}] A. Researcher. Fast mobile networks {i}. CVPR Workshops, 2021.) Tj T*"
                for i in range(1, 30)
            ]
        else:
            for column, x in enumerate((58, 320)):
                ops.append(f"1 0 0 1 {x} 720 Tm")
                if number == 0 and column == 0:
                    ops.append(f"({title[:40]}) Tj T*")
                ops += [f"({line[: 44 + (i % 3)]}) Tj T*" for i in range(52)]
        ops.append("ET")
        pages.append("\n".join(ops).encode())
    count = len(pages)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count)), count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    for i, content in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
            b">> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """Serialises numbered PDF object bodies (object 1 is the catalog) with a valid xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _seed_demo_papers(workshop: Workshop) -> None:
    """Four papers by author@example.com in the live edition, checked, with their review copies (the
    reviewing seed puts them in every state: submitted, under review, decided, released)."""
    author = get_user_model().objects.filter(email="author@example.com").first()
    if author is None:
        return
    topics = list(workshop.topics.all())
    for title, abstract, topic_indexes, pages in DEMO_PAPERS:
        if Paper.objects.filter(workshop=workshop, title=title).exists():
            continue
        number = (Paper.objects.filter(workshop=workshop).aggregate(n=Max("number"))["n"] or 0) + 1
        paper = Paper.objects.create(
            workshop=workshop, number=number, title=title, abstract=abstract, submitter=author
        )
        paper.topics.set([topics[i] for i in topic_indexes if i < len(topics)])
        PaperAuthor.objects.create(
            paper=paper,
            order=1,
            name="Alex Author",
            email=author.email,
            affiliation="Institute of Mobile Vision",
            user=author,
        )
        PaperAuthor.objects.create(
            paper=paper,
            order=2,
            name="Jamie Coauthor",
            email="coauthor@example.com",
            affiliation="Edge AI Startup",
        )
        PaperChange.objects.create(
            paper=paper,
            user=author,
            action=PaperChange.Action.CREATED,
            summary=f"Created paper #{number} “{title}” (demo data)",
        )
        version = PaperVersion(paper=paper, number=1, uploaded_by=author, original_name="paper.pdf")
        data = _demo_pdf(title, pages)
        version.size = len(data)
        version.original.save("original.pdf", ContentFile(data), save=False)
        version.save()
        paper_version_check(version_id=version.pk, notify=False)
