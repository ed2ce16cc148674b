"""Demo challenges: the six MAI 2021 tracks with their target platforms, contracts, metrics and
milestones (idempotent). In the live edition (`mai-live`) each track also gets small generated datasets
(`demo_data`) and a contract scaled down to those images, so every phase can be tried locally.

The live edition's tracks sit in different phases, so each can be seen without the admin (`LIVE_PHASES`):
most in the validation phase, "Video Super-Resolution" in the final phase and "Quantized Image
Super-Resolution" with its final results released. Those two and "Learned Smartphone ISP" get demo
teams whose validation results (noisy copies of the ground truth, scored here by `scoring`) are on the
leaderboard (and, on "Learned Smartphone ISP", one failed try with the scorer's own reason);
`finalphase.seed` seeds them (`seed_demo_teams`) with their final-phase submissions, so
`manage.py seed_demo` has them and this module's `seed_demo` alone (the challenge tests' fixture) does
not. Tracks the tests use for a fresh validation phase (denoising, depth, scenes) get no demo teams."""

import datetime as dt
import hashlib
import io
import zipfile

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from conference.models import Profile, Workshop
from conference.seed import MAI_2021_CHALLENGE_DATES, PACIFIC, at_5pm_pacific, demo_live_dates

from . import demo_data, scoring
from .models import Challenge, DataFile, Milestone, Registration, Submission, Team, TeamMembership

PSNR = {"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2}
SSIM = {"key": "ssim", "label": "SSIM", "higher_is_better": True, "precision": 4}
SI_RMSE = {"key": "si_rmse", "label": "si-RMSE", "higher_is_better": False, "precision": 4}
RMSE = {"key": "rmse", "label": "RMSE (mm)", "higher_is_better": False, "precision": 1}
TOP1 = {"key": "top1", "label": "Top-1 (%)", "higher_is_better": True, "precision": 2}
TOP3 = {"key": "top3", "label": "Top-3 (%)", "higher_is_better": True, "precision": 2}

TERMS = """\
1. Each participant is in at most one team; teams have at most the stated number of members.
2. Results must be produced by the submitted method; hand labelling of validation or test data is forbidden.
3. To be ranked in the final phase, a team submits its model, a fact sheet and its code by the deadlines.
4. Winners are invited to describe their solution in the challenge report, published with the workshop.
"""

# slug, title, platform, summary, contract (full size), live contract (demo data), format, metrics,
# score formula, demo-data generator
TRACKS = [
    {
        "slug": "learned-isp",
        "title": "Learned Smartphone ISP",
        "platform": "MediaTek Dimensity 1000+, APU",
        "summary": "RAW images from a Sony IMX586 sensor to the RGB of a Fujifilm GFX100.",
        "description": "Map de-Bayered **RAW** images (4 channels) from the Sony IMX586 mobile sensor to the RGB "
        "photos of a Fujifilm GFX100 DSLR, with a model fast on the MediaTek Dimensity 1000+ APU.",
        "contract": ([1, 544, 960, 4], "float32", [1, 1088, 1920, 3], "float32", False),
        "live": ([1, 16, 24, 4], [1, 32, 48, 3]),
        "format": "images_zip",
        "metrics": [PSNR, SSIM],
        "formula": "2^(2·PSNR) / (C·runtime)",
        "data": lambda: demo_data.image_track(11, in_size=(16, 24), out_size=(32, 48), in_channels=4),
    },
    {
        "slug": "image-denoising",
        "title": "Image Denoising",
        "platform": "Samsung Exynos 2100, Mali GPU",
        "summary": "Remove the noise of smartphone photos on the Mali GPU.",
        "description": "Restore clean images from **noisy** smartphone photos (480p-class inputs).",
        "contract": ([1, 480, 720, 3], "float32", [1, 480, 720, 3], "float32", False),
        "live": ([1, 32, 48, 3], [1, 32, 48, 3]),
        "format": "images_zip",
        "metrics": [PSNR, SSIM],
        "formula": "2^(2·PSNR) / (C·runtime)",
        "data": lambda: demo_data.image_track(12, in_size=(32, 48), out_size=(32, 48), kind="denoise"),
    },
    {
        "slug": "quantized-sr",
        "title": "Quantized Image Super-Resolution",
        "platform": "Synaptics VS680, NPU",
        "summary": "×3 super-resolution with a full-INT8 model on the VS680 NPU.",
        "description": "Up-scale images **×3** (DIV2K) with a fully INT8-quantised model (uint8 in and out).",
        "contract": ([1, 360, 640, 3], "uint8", [1, 1080, 1920, 3], "uint8", True),
        "live": ([1, 12, 16, 3], [1, 36, 48, 3]),
        "format": "images_zip",
        "metrics": [PSNR, SSIM],
        "formula": "2^(2·PSNR) / (C·runtime)",
        "data": lambda: demo_data.image_track(13, in_size=(12, 16), out_size=(36, 48)),
    },
    {
        "slug": "video-sr",
        "title": "Video Super-Resolution",
        "platform": "OPPO Find X2, Snapdragon 865, Adreno GPU",
        "summary": "×4 video super-resolution (REDS) on the Adreno GPU.",
        "description": "Up-scale video frames **×4** (REDS) with a float model on the Adreno 650 GPU.",
        "contract": ([1, 180, 320, 3], "float32", [1, 720, 1280, 3], "float32", False),
        "live": ([1, 8, 12, 3], [1, 32, 48, 3]),
        "format": "images_zip",
        "metrics": [PSNR, SSIM],
        "formula": "2^(2·PSNR) / (C·runtime)",
        "data": lambda: demo_data.image_track(14, in_size=(8, 12), out_size=(32, 48)),
    },
    {
        "slug": "depth-estimation",
        "title": "Monocular Depth Estimation",
        "platform": "Raspberry Pi 4, ARM CPU",
        "summary": "Depth in mm from one RGB image, on the Raspberry Pi 4 CPU.",
        "description": "Predict **depth in millimetres** from a single RGB image (ZED stereo data, up to 50 m). "
        "Results: an `.npz` with one H×W array per input, keyed by the input's name "
        "without extension.",
        "contract": ([1, 480, 640, 3], "float32", [1, 480, 640, 1], "float32", False),
        "live": ([1, 24, 32, 3], [1, 24, 32, 1]),
        "format": "npz",
        "metrics": [SI_RMSE, RMSE],
        "formula": "2^(−20·si-RMSE) / (C·runtime)",
        "data": lambda: demo_data.depth_track(15),
    },
    {
        "slug": "scene-detection",
        "title": "Quantized Camera Scene Detection",
        "platform": "Apple A11 / any phone NPU",
        "summary": "30 camera scenes (CamSDD) with a full-INT8 model.",
        "description": "Classify photos into the **30 scenes** of CamSDD with a fully INT8-quantised model. "
        "Results: a `.csv` with `name,prediction1,prediction2,prediction3` (class indices, "
        "best first).",
        "contract": ([1, 576, 384, 3], "uint8", [1, 30], "uint8", True),
        "live": ([1, 32, 24, 3], [1, 30]),
        "format": "csv",
        "metrics": [TOP1, TOP3],
        "formula": "top-1 accuracy / (C·runtime)",
        "data": lambda: demo_data.classification_track(16),
    },
]

# Kept for code that imported the old list of (slug, title, platform).
MAI_2021_TRACKS = [(t["slug"], t["title"], t["platform"]) for t in TRACKS]

MILESTONE_KEYS = {
    Milestone.Kind.WEBSITE_ONLINE: "website",
    Milestone.Kind.TRAIN_DATA: "train_data",
    Milestone.Kind.VALIDATION_SERVER: "validation_server",
    Milestone.Kind.TEST_DATA: "test_data",
    Milestone.Kind.FINAL_DEADLINE: "final_deadline",
    Milestone.Kind.FACTSHEET_DEADLINE: "factsheet_deadline",
    Milestone.Kind.PRELIMINARY_RESULTS: "preliminary_results",
    Milestone.Kind.CHALLENGE_PAPERS: "challenge_papers",
}

DATA_TITLES = {
    DataFile.Split.TRAIN: "Training data",
    DataFile.Split.VALIDATION_INPUT: "Validation inputs",
    DataFile.Split.VALIDATION_GT: "Validation ground truth",
    DataFile.Split.TEST_INPUT: "Test inputs",
    DataFile.Split.TEST_GT: "Test ground truth",
}


def _apply_track(challenge: Challenge, track: dict, *, live: bool) -> None:
    in_shape, in_dtype, out_shape, out_dtype, int8 = track["contract"]
    if live:
        in_shape, out_shape = track["live"]
    challenge.title = track["title"]
    challenge.target_platform = track["platform"]
    challenge.summary = track["summary"]
    challenge.description = track["description"]
    challenge.terms = TERMS
    challenge.input_shape, challenge.input_dtype = in_shape, in_dtype
    challenge.output_shape, challenge.output_dtype = out_shape, out_dtype
    challenge.value_range_min, challenge.value_range_max = 0.0, 255.0
    challenge.int8_required = int8
    challenge.result_format = track["format"]
    challenge.metrics = track["metrics"]
    challenge.score_formula = track["formula"]
    challenge.save()


def _seed_data(challenge: Challenge, track: dict) -> None:
    if challenge.data_files.exists():
        return
    for split, (name, data) in track["data"]().items():
        DataFile(
            challenge=challenge,
            split=split,
            title=DATA_TITLES[split],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        ).file.save(name, ContentFile(data))


# The live edition's phase per track; tracks not listed are in the validation phase.
LIVE_PHASES = {"video-sr": "final", "quantized-sr": "released"}
# Milestone days relative to today (5pm Pacific) for the tracks ahead of the validation phase.
PHASE_DAYS = {
    "final": {
        "website": -40,
        "train_data": -35,
        "validation_server": -30,
        "test_data": -3,
        "final_deadline": 10,
        "factsheet_deadline": 10,
        "preliminary_results": 12,
        "challenge_papers": 20,
    },
    "released": {
        "website": -60,
        "train_data": -55,
        "validation_server": -50,
        "test_data": -20,
        "final_deadline": -12,
        "factsheet_deadline": -12,
        "preliminary_results": -5,
        "challenge_papers": 10,
    },
}
# Tracks with demo teams (their validation results scored at seed time).
DEMO_TEAM_TRACKS = ("learned-isp", "video-sr", "quantized-sr")
DEMO_TEAMS = [
    # (team, account, full name, affiliation, noise of its validation results)
    ("Pixel Pushers", "pixel.pushers@example.com", "Pia Pixel", "Mobile Imaging Lab", 4.0),
    ("Edge Lords", "edge.lords@example.com", "Eddie Edge", "NPU Systems Group", 9.0),
]


def live_track_dates(today: dt.date, slug: str) -> dict[str, dt.datetime]:
    """The milestones of a live-edition track: the edition's (validation phase) or its phase's."""
    phase = LIVE_PHASES.get(slug)
    if phase is None:
        return demo_live_dates(today)

    def day(offset: int) -> dt.datetime:
        d = today + dt.timedelta(days=offset)
        return at_5pm_pacific(d.year, d.month, d.day)

    return {key: day(offset) for key, offset in PHASE_DAYS[phase].items()}


def demo_team_member(email: str, full_name: str, affiliation: str):
    """A demo participant account (no password: nobody logs in as a demo team)."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(
            username=email, email=email, first_name=full_name.split()[0], last_name=full_name.split()[-1]
        )
        user.set_unusable_password()
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        Profile.objects.create(
            user=user, full_name=full_name, affiliation=affiliation, institution_domains=[email.split("@")[1]]
        )
    return user


def seed_demo_teams() -> None:
    """The demo teams of the live edition's `DEMO_TEAM_TRACKS` (run by `finalphase.seed`, after the
    tracks and their data exist; the challenge tests' own fixture seeds tracks without teams)."""
    now = timezone.now()
    for challenge in Challenge.objects.filter(workshop__slug="mai-live", slug__in=DEMO_TEAM_TRACKS):
        _seed_teams(challenge, now)


def _seed_teams(challenge: Challenge, now: dt.datetime) -> None:
    """Two demo teams, each with one scored validation submission (made from the ground truth with
    noise, scored by `scoring` as the worker would), submitted during the validation phase."""
    if challenge.teams.exists():
        return
    gt = challenge.data_files.filter(split=DataFile.Split.VALIDATION_GT).first()
    if gt is None:
        return
    with gt.file.open("rb") as fh:
        truth = fh.read()
    opened = challenge.milestones.filter(kind=Milestone.Kind.VALIDATION_SERVER).first()
    submitted_at = min(now, (opened.at if opened else now) + dt.timedelta(days=1))
    for index, (name, email, full_name, affiliation, noise) in enumerate(DEMO_TEAMS):
        user = demo_team_member(email, full_name, affiliation)
        Registration.objects.get_or_create(
            challenge=challenge,
            user=user,
            defaults={"accepted_terms_at": now, "approved": True, "approved_at": now},
        )
        team = Team.objects.create(challenge=challenge, name=name, created_by=user)
        TeamMembership.objects.create(
            team=team, challenge=challenge, user=user, role=TeamMembership.Role.LEADER
        )
        results = demo_data.results_for(challenge.result_format, truth, noise=noise, seed=index + 1)
        scored = scoring.score(
            result_format=challenge.result_format,
            submission=results,
            ground_truth=truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
        submission = Submission(
            challenge=challenge,
            team=team,
            submitted_by=user,
            original_name=f"results{'.zip' if challenge.result_format == 'images_zip' else '.' + challenge.result_format}",
            size=len(results),
            method_name=f"{name} net (demo data)",
            status=Submission.Status.DONE,
            attempts=1,
            scores=scored.scores,
            per_file=scored.per_file,
            started_at=submitted_at,
            finished_at=submitted_at,
        )
        submission.file.save(submission.original_name, ContentFile(results), save=False)
        submission.save()
        Submission.objects.filter(pk=submission.pk).update(created_at=submitted_at)
    if challenge.slug not in LIVE_PHASES and challenge.result_format == "images_zip":
        _seed_failed_submission(challenge, team, results, truth, now)


def _seed_failed_submission(
    challenge: Challenge, team: Team, results: bytes, truth: bytes, now: dt.datetime
) -> None:
    """On a track still in its validation phase, the last team's second try failed: one output zipped
    as JPEG bytes under a .png name. The reason is the scorer's own message on that file, so the
    dashboard's "Scoring failures" table and its "Score again" button have something real to show."""
    with zipfile.ZipFile(io.BytesIO(results)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    first = sorted(files)[0]
    files[first] = b"\xff\xd8\xff\xe0" + b"\0" * 60  # a JPEG header where a PNG belongs
    broken = demo_data.zip_bytes(files)
    try:
        scoring.score(
            result_format=challenge.result_format,
            submission=broken,
            ground_truth=truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        error = str(exc)
    else:  # pragma: no cover - the scorer accepted a JPEG as a PNG: seed no failure rather than a fake one
        return
    at = now - dt.timedelta(hours=20)
    submission = Submission(
        challenge=challenge,
        team=team,
        submitted_by=team.created_by,
        original_name="results.zip",
        size=len(broken),
        method_name=f"{team.name} net v2 (demo data)",
        status=Submission.Status.FAILED,
        attempts=1,
        error=error,
        started_at=at,
        finished_at=at,
    )
    submission.file.save(submission.original_name, ContentFile(broken), save=False)
    submission.save()
    Submission.objects.filter(pk=submission.pk).update(created_at=at)


@transaction.atomic
def seed_demo(*, stdout=None) -> None:
    today = timezone.localdate(timezone=PACIFIC)
    for slug, dates in [
        ("mai-2021", MAI_2021_CHALLENGE_DATES),
        ("mai-live", None),
    ]:
        workshop = Workshop.objects.filter(slug=slug).first()
        if workshop is None:
            continue
        live = slug == "mai-live"
        for order, track in enumerate(TRACKS):
            challenge, created = Challenge.objects.get_or_create(
                workshop=workshop,
                slug=track["slug"],
                defaults={"title": track["title"], "target_platform": track["platform"], "order": order},
            )
            _apply_track(challenge, track, live=live)
            track_dates = dates if not live else live_track_dates(today, track["slug"])
            for kind, key in MILESTONE_KEYS.items():
                Milestone.objects.get_or_create(
                    challenge=challenge, kind=kind, defaults={"at": track_dates[key]}
                )
            if live:
                _seed_data(challenge, track)
        if stdout:
            stdout.write(f"Challenges of {workshop.short_name}: {len(TRACKS)} tracks.\n")
