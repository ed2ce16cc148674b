"""The demo content: the MAI 2021 workshop as it was, a live edition dated relative to today so every
phase can be tried, and four demo accounts. Idempotent: existing rows are never overwritten, so a
second run keeps what users changed."""

import datetime as dt
import zoneinfo

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import ImportantDate, Membership, Organiser, Profile, Topic, Workshop

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


def _create_workshop(*, slug: str, defaults: dict, dates: list[tuple[str, dt.datetime]]) -> tuple[Workshop, bool]:
    workshop, created = Workshop.objects.get_or_create(slug=slug, defaults=defaults)
    if created:
        for order, name in enumerate(MAI_TOPICS):
            Topic.objects.create(workshop=workshop, name=name, order=order)
        for order, (name, affiliation) in enumerate(
            [("Andrey Ignatov", "Computer Vision Lab, ETH Zurich"),
             ("Radu Timofte", "Computer Vision Lab, ETH Zurich")]
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


@transaction.atomic
def seed_demo(*, stdout=None) -> dict[str, Workshop]:
    K = ImportantDate.Kind
    common = {
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
    mai2021, _ = _create_workshop(
        slug="mai-2021",
        defaults={**common, "name": "Mobile AI Workshop 2021", "short_name": "MAI 2021",
                  "location": "Virtual (CVPR 2021)",
                  "start_date": dt.date(2021, 6, 25), "end_date": dt.date(2021, 6, 25)},
        dates=[
            (K.SUBMISSION_OPEN, at_5pm_pacific(2021, 1, 15)),
            (K.PAPER_DEADLINE, at_5pm_pacific(2021, 3, 15)),
            (K.CHALLENGE_PAPER_DEADLINE, at_5pm_pacific(2021, 4, 2)),
            (K.NOTIFICATION, at_5pm_pacific(2021, 4, 5)),
            (K.CAMERA_READY, at_5pm_pacific(2021, 4, 15)),
        ],
    )
    live = demo_live_dates(timezone.localdate(timezone=PACIFIC))
    workshop_day = live["workshop"].date()
    demo, _ = _create_workshop(
        slug="mai-live",
        defaults={**common, "name": "Mobile AI Workshop (live demo edition)", "short_name": "MAI Live",
                  "host_conference": "CVPR (demo)", "location": "Online",
                  "start_date": workshop_day, "end_date": workshop_day},
        dates=[
            (K.SUBMISSION_OPEN, live["submission_open"]),
            (K.PAPER_DEADLINE, live["paper_deadline"]),
            (K.CHALLENGE_PAPER_DEADLINE, live["challenge_paper_deadline"]),
            (K.NOTIFICATION, live["notification"]),
            (K.CAMERA_READY, live["camera_ready"]),
        ],
    )
    User = get_user_model()
    for email, full_name, affiliation, role in DEMO_USERS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(username=email, email=email, password=DEMO_PASSWORD,
                                            first_name=full_name.split()[0], last_name=full_name.split()[-1])
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Profile.objects.create(user=user, full_name=full_name, affiliation=affiliation,
                                   institution_domains=[email.split("@")[1]])
            if role == "chair":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        for workshop in (mai2021, demo):
            if role in ("chair", "reviewer"):
                Membership.objects.get_or_create(workshop=workshop, user=user, role=role)
    if role_chair := User.objects.filter(email="chair@example.com").first():
        from django.contrib.auth.models import Permission

        role_chair.user_permissions.add(*Permission.objects.filter(
            content_type__app_label__in=["conference", "reviewing", "challenges", "evaluation"]))
    if stdout:
        stdout.write("Demo workshops: /mai-2021/ and /mai-live/")
    return {"mai-2021": mai2021, "mai-live": demo}
