"""An edition to clone and to run from the console: MAI-like dates in Pacific time, topics,
organisers, a committee, a paper, a track with its contract, milestones, final-phase settings, data
files (one uploaded, one a link), a team with a submission; and one account per role."""

import datetime as dt
import zoneinfo

import pytest

from challenges.finalphase.models import FinalPhaseSettings
from challenges.models import DataFile, Milestone
from conference.models import ImportantDate, Membership, Organiser
from conference.reviewing.models import ReviewSettings
from evaluation.models import DeviceHost
from tests.factories import (
    ChallengeFactory,
    DataFileFactory,
    DeviceFactory,
    MembershipFactory,
    MilestoneFactory,
    PaperAuthorFactory,
    PaperFactory,
    SubmissionFactory,
    TeamFactory,
    TopicFactory,
    WorkshopFactory,
)

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


def pacific(year, month, day, hour=17, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PACIFIC)


@pytest.fixture
def source(db, make_user):
    """MAI 2021 as a chair left it, with one account per role (`source["users"]`)."""
    ws = WorkshopFactory(
        slug="mai-2021",
        name="Mobile AI Workshop 2021",
        short_name="MAI 2021",
        host_conference="CVPR 2021",
        start_date=dt.date(2021, 6, 25),
        end_date=dt.date(2021, 6, 25),
        call_for_papers="## Scope\n\nEfficient deep learning on phones.",
        page_limit=8,
        dual_submission_policy="allowed only with CVPR 2021",
    )
    for order, name in enumerate(["Quantization", "Super-resolution", "Depth estimation"]):
        TopicFactory(workshop=ws, name=name, order=order)
    Organiser.objects.create(workshop=ws, name="Andrey Ignatov", affiliation="ETH Zurich", order=0)
    Organiser.objects.create(workshop=ws, name="Radu Timofte", affiliation="ETH Zurich", order=1)
    K = ImportantDate.Kind
    for kind, at in [
        (K.SUBMISSION_OPEN, pacific(2021, 1, 15)),
        (K.PAPER_DEADLINE, pacific(2021, 3, 15)),
        (K.CHALLENGE_PAPER_DEADLINE, pacific(2021, 4, 2)),
        (K.NOTIFICATION, pacific(2021, 4, 5)),
        (K.CAMERA_READY, pacific(2021, 4, 15)),
    ]:
        ImportantDate.objects.create(workshop=ws, kind=kind, at=at)
    ReviewSettings.objects.create(workshop=ws, reviewers_per_paper=2, review_deadline=pacific(2021, 3, 30))

    users = {
        "chair": make_user("chair@chairs.edu", full_name="Charlotte Chair"),
        "cochair": make_user("cochair@chairs.edu", full_name="Cole Cochair"),
        "reviewer": make_user("rita@reviewers.edu", full_name="Rita Reviewer"),
        "author": make_user("alice@authors.edu", full_name="Alice Author"),
        "participant": make_user("pat@teams.edu", full_name="Pat Participant"),
        "organiser": make_user("olga@organisers.edu", full_name="Olga Organiser"),
        "stranger": make_user("sid@elsewhere.edu", full_name="Sid Stranger"),
    }
    superuser = make_user("root@site.edu", full_name="Root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    users["superuser"] = superuser
    MembershipFactory(workshop=ws, user=users["chair"], role=Membership.Role.CHAIR)
    MembershipFactory(workshop=ws, user=users["cochair"], role=Membership.Role.CHAIR)
    MembershipFactory(workshop=ws, user=users["reviewer"], role=Membership.Role.REVIEWER)

    paper = PaperFactory(workshop=ws, number=1, title="Tiny ISP networks")
    PaperAuthorFactory(paper=paper, name="Alice Author", email="alice@authors.edu", user=users["author"])
    paper.submitter = users["author"]
    paper.save(update_fields=["submitter"])

    track = ChallengeFactory(
        workshop=ws,
        slug="isp",
        title="Learned Smartphone ISP",
        target_platform="MediaTek Dimensity 1000+, APU",
        terms="Use only the provided data.",
        input_shape=[1, 544, 960, 4],
        output_shape=[1, 1088, 1920, 3],
        int8_required=False,
        metrics=[
            {"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2},
            {"key": "ssim", "label": "SSIM", "higher_is_better": True, "precision": 4},
        ],
        score_formula="2^(2·PSNR) / (C·runtime)",
        submissions_per_day=3,
        submissions_total=40,
    )
    track.organisers.add(users["organiser"])
    M = Milestone.Kind
    for kind, at in [
        (M.WEBSITE_ONLINE, pacific(2021, 1, 10)),
        (M.TRAIN_DATA, pacific(2021, 1, 15)),
        (M.VALIDATION_SERVER, pacific(2021, 1, 20)),
        (M.TEST_DATA, pacific(2021, 3, 15)),
        (M.FINAL_DEADLINE, pacific(2021, 3, 20)),
        (M.FACTSHEET_DEADLINE, pacific(2021, 3, 21)),
        (M.PRELIMINARY_RESULTS, pacific(2021, 3, 24)),
        (M.CHALLENGE_PAPERS, pacific(2021, 4, 2)),
    ]:
        MilestoneFactory(challenge=track, kind=kind, at=at)
    FinalPhaseSettings.objects.create(
        challenge=track,
        score_formula="2 ** (2 * psnr) / (C * runtime_ms)",
        constants={"C": 2.5},
        timed_runs=7,
        device_slug="dimensity-1000",
    )
    DataFileFactory(challenge=track, split=DataFile.Split.TRAIN, title="Zurich RAW to RGB (uploaded)")
    DataFile.objects.create(
        challenge=track,
        split=DataFile.Split.VALIDATION_INPUT,
        title="Validation inputs (link)",
        external_url="https://data.example.org/val.zip",
    )
    team = TeamFactory(challenge=track, name="Team Bayer", members=[users["participant"]])
    SubmissionFactory(team=team)
    host = DeviceHost.objects.create(name="lab-phones")
    DeviceFactory(slug="dimensity-1000", device_host=host)
    return {"workshop": ws, "track": track, "paper": paper, "team": team, "host": host, "users": users}
