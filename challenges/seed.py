"""Demo challenges: the six MAI 2021 tracks with their milestones (idempotent)."""

from conference.models import Workshop
from conference.seed import MAI_2021_CHALLENGE_DATES, demo_live_dates

from .models import Challenge, Milestone

MAI_2021_TRACKS = [
    ("learned-isp", "Learned Smartphone ISP", "MediaTek Dimensity 1000+, APU"),
    ("image-denoising", "Image Denoising", "Samsung Exynos 2100, Mali GPU"),
    ("quantized-sr", "Quantized Image Super-Resolution", "Synaptics VS680, NPU"),
    ("video-sr", "Video Super-Resolution", "OPPO Find X2, Snapdragon 865, Adreno GPU"),
    ("depth-estimation", "Monocular Depth Estimation", "Raspberry Pi 4, ARM CPU"),
    ("scene-detection", "Quantized Camera Scene Detection", "Apple A11 / any phone NPU"),
]

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


def seed_demo(*, stdout=None) -> None:
    from django.utils import timezone

    from conference.seed import PACIFIC

    for slug, dates in [("mai-2021", MAI_2021_CHALLENGE_DATES),
                        ("mai-live", demo_live_dates(timezone.localdate(timezone=PACIFIC)))]:
        workshop = Workshop.objects.filter(slug=slug).first()
        if workshop is None:
            continue
        for order, (track_slug, title, platform) in enumerate(MAI_2021_TRACKS):
            challenge, created = Challenge.objects.get_or_create(
                workshop=workshop, slug=track_slug,
                defaults={"title": title, "target_platform": platform, "order": order},
            )
            if created:
                for kind, key in MILESTONE_KEYS.items():
                    Milestone.objects.create(challenge=challenge, kind=kind, at=dates[key])
