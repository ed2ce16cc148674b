"""Demo challenges: the six MAI 2021 tracks with their target platforms, contracts, metrics and
milestones (idempotent). In the live edition (`mai-live`) each track also gets small generated datasets
(`demo_data`) and a contract scaled down to those images, so every phase can be tried locally."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from conference.models import Workshop
from conference.seed import MAI_2021_CHALLENGE_DATES, PACIFIC, demo_live_dates

from . import demo_data
from .models import Challenge, DataFile, Milestone

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


@transaction.atomic
def seed_demo(*, stdout=None) -> None:
    for slug, dates in [
        ("mai-2021", MAI_2021_CHALLENGE_DATES),
        ("mai-live", demo_live_dates(timezone.localdate(timezone=PACIFIC))),
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
            for kind, key in MILESTONE_KEYS.items():
                Milestone.objects.get_or_create(challenge=challenge, kind=kind, defaults={"at": dates[key]})
            if live:
                _seed_data(challenge, track)
        if stdout:
            stdout.write(f"Challenges of {workshop.short_name}: {len(TRACKS)} tracks.\n")
