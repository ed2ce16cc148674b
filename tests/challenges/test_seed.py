"""The demo seed: six MAI 2021 tracks with contracts, metrics and (live edition) generated data."""

import io

import pytest

from challenges.models import Challenge, DataFile

pytestmark = pytest.mark.django_db


def test_six_tracks_with_contracts_and_metrics(seeded):
    tracks = {c.slug: c for c in Challenge.objects.filter(workshop=seeded["mai-2021"])}
    assert len(tracks) == 6
    isp = tracks["learned-isp"]
    assert isp.target_platform == "MediaTek Dimensity 1000+, APU"
    assert isp.contract == {
        "input_shape": [1, 544, 960, 4],
        "input_dtype": "float32",
        "output_shape": [1, 1088, 1920, 3],
        "output_dtype": "float32",
        "value_range": [0.0, 255.0],
        "int8_required": False,
    }
    sr = tracks["quantized-sr"]
    assert sr.int8_required and sr.input_dtype == "uint8" and sr.output_dtype == "uint8"
    assert [m["key"] for m in tracks["depth-estimation"].metrics] == ["si_rmse", "rmse"]
    assert tracks["depth-estimation"].metrics[0]["higher_is_better"] is False
    assert [m["key"] for m in tracks["scene-detection"].metrics] == ["top1", "top3"]
    assert tracks["scene-detection"].output_shape == [1, 30]
    assert "Exynos 2100" in tracks["image-denoising"].target_platform
    assert tracks["learned-isp"].milestones.count() == 8


def test_live_edition_has_every_split_and_seed_is_idempotent(seeded):
    from django.core.management import call_command

    live = Challenge.objects.filter(workshop=seeded["mai-live"])
    for challenge in live:
        splits = set(challenge.data_files.values_list("split", flat=True))
        assert splits == set(DataFile.Split.values), challenge.slug
    n = DataFile.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert DataFile.objects.count() == n
    assert Challenge.objects.filter(workshop=seeded["mai-live"]).count() == 6
