"""Scoring of result files: hand-computed scores, and every bad input refused with a clear message."""

import io
import math
import zipfile

import numpy as np
import pytest
from PIL import Image

from challenges import scoring
from challenges.demo_data import npz_bytes, png_bytes, zip_bytes

MB = 1024 * 1024


def gt_images():
    a = np.zeros((16, 16, 3), np.uint8)
    b = np.full((16, 16, 3), 100, np.uint8)
    return {"0001.png": a, "0002.png": b}


def score_images(files, **kwargs):
    gt = zip_bytes({k: png_bytes(v) for k, v in gt_images().items()})
    return scoring.score(
        result_format="images_zip",
        submission=zip_bytes(files),
        ground_truth=gt,
        max_uncompressed=kwargs.get("max_uncompressed", 10 * MB),
    )


def test_images_scored_per_file_and_averaged_by_hand():
    gt = gt_images()
    pred1 = gt["0001.png"].copy() + 1  # mse 1 → 48.13 dB
    pred2 = gt["0002.png"].copy()
    pred2[:8] += 2  # half the pixels off by 2 → mse 2
    result = score_images({"0001.png": png_bytes(pred1), "0002.png": png_bytes(pred2)})
    p1, p2 = 20 * math.log10(255), 10 * math.log10(255**2 / 2)
    assert [r["name"] for r in result.per_file] == ["0001.png", "0002.png"]
    assert result.per_file[0]["psnr"] == pytest.approx(p1)
    assert result.per_file[1]["psnr"] == pytest.approx(p2)
    assert result.scores["psnr"] == pytest.approx((p1 + p2) / 2)
    assert 0.9 < result.scores["ssim"] <= 1


def test_identical_images_capped_and_one_top_folder_allowed():
    gt = gt_images()
    result = score_images({f"results/{k}": png_bytes(v) for k, v in gt.items()})
    assert result.scores["psnr"] == scoring.PSNR_CAP
    assert result.scores["ssim"] == pytest.approx(1.0)


def test_missing_and_extra_files_are_named():
    gt = gt_images()
    with pytest.raises(
        scoring.ScoringError, match=r"missing 1 file\(s\): 0002.png; 1 unexpected file\(s\): 0003.png"
    ):
        score_images({"0001.png": png_bytes(gt["0001.png"]), "0003.png": png_bytes(gt["0002.png"])})


def test_wrong_size_and_channels():
    with pytest.raises(scoring.ScoringError, match="“0001.png” is 8×16 pixels; expected 16×16"):
        score_images(
            {
                "0001.png": png_bytes(np.zeros((16, 8, 3), np.uint8)),
                "0002.png": png_bytes(np.zeros((16, 16, 3), np.uint8)),
            }
        )
    with pytest.raises(scoring.ScoringError, match="4 channel"):
        score_images(
            {
                "0001.png": png_bytes(np.zeros((16, 16, 4), np.uint8)),
                "0002.png": png_bytes(np.zeros((16, 16, 3), np.uint8)),
            }
        )


def test_corrupt_png_and_empty_member():
    good = png_bytes(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(scoring.ScoringError, match="“0002.png” is not a readable PNG"):
        score_images({"0001.png": good, "0002.png": good[:40]})
    with pytest.raises(scoring.ScoringError, match="“0002.png” is empty"):
        score_images({"0001.png": good, "0002.png": b""})
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(buffer, format="JPEG")
    with pytest.raises(scoring.ScoringError, match="not a PNG"):
        score_images({"0001.png": good, "0002.png": buffer.getvalue()})


def test_zip_bomb_refused_before_reading():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0001.png", b"\0" * (3 * MB))  # compresses to a few KB
    bomb = buffer.getvalue()
    assert len(bomb) < 20_000
    with pytest.raises(scoring.ScoringError, match="more than 1 MB; this looks like a zip bomb"):
        scoring.check_upload(
            result_format="images_zip", name="r.zip", data=bomb, max_bytes=10 * MB, max_uncompressed=1 * MB
        )


@pytest.mark.parametrize("name", ["../0001.png", "/etc/0001.png", "a/../../0001.png"])
def test_unsafe_paths_refused(name):
    data = zip_bytes({name: png_bytes(np.zeros((16, 16, 3), np.uint8))})
    with pytest.raises(scoring.ScoringError, match="unsafe path"):
        scoring.check_upload(
            result_format="images_zip", name="r.zip", data=data, max_bytes=MB, max_uncompressed=MB
        )


def test_upload_checks():
    with pytest.raises(scoring.ScoringError, match="empty \\(0 bytes\\)"):
        scoring.check_upload(
            result_format="images_zip", name="r.zip", data=b"", max_bytes=MB, max_uncompressed=MB
        )
    with pytest.raises(scoring.ScoringError, match="not a valid zip"):
        scoring.check_upload(
            result_format="images_zip", name="r.zip", data=b"hello", max_bytes=MB, max_uncompressed=MB
        )
    with pytest.raises(scoring.ScoringError, match="takes a .zip file"):
        scoring.check_upload(
            result_format="images_zip", name="r.tar", data=b"x", max_bytes=MB, max_uncompressed=MB
        )
    with pytest.raises(scoring.ScoringError, match="larger than 1 MB"):
        scoring.check_upload(
            result_format="csv", name="r.csv", data=b"x" * (MB + 1), max_bytes=MB, max_uncompressed=MB
        )


def test_depth_npz_by_hand_and_errors():
    gt = {"a": np.array([[1000.0, 2000.0], [4000.0, 0.0]], np.float32)}
    pred = {"a": np.array([[2000.0, 2000.0], [2000.0, 5.0]], np.float32)}
    result = scoring.score(
        result_format="npz", submission=npz_bytes(pred), ground_truth=npz_bytes(gt), max_uncompressed=MB
    )
    d = np.log([2.0, 1.0, 0.5])
    assert result.scores["si_rmse"] == pytest.approx(math.sqrt(np.mean(d**2) - np.mean(d) ** 2), rel=1e-6)
    with pytest.raises(scoring.ScoringError, match="“a” has shape 3×2; expected 2×2"):
        scoring.score(
            result_format="npz",
            submission=npz_bytes({"a": np.ones((3, 2))}),
            ground_truth=npz_bytes(gt),
            max_uncompressed=MB,
        )
    buffer = io.BytesIO()
    np.savez(buffer, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(scoring.ScoringError, match="Python objects"):
        scoring.score(
            result_format="npz", submission=buffer.getvalue(), ground_truth=npz_bytes(gt), max_uncompressed=MB
        )


def test_classification_csv_by_hand():
    gt = b"name,label\nx.png,3\ny.png,1\nz.png,2\nw.png,0\n"
    sub = b"x.png,3,0,1\ny.png,0,1,2\nz.png,0,1,4\nw.png,1,2,0\n"
    result = scoring.score(result_format="csv", submission=sub, ground_truth=gt, max_uncompressed=MB)
    assert result.scores == {"top1": 25.0, "top3": 75.0}
    assert {r["name"]: r["top1"] for r in result.per_file} == {
        "w.png": 0,
        "x.png": 100,
        "y.png": 0,
        "z.png": 0,
    }
    with pytest.raises(scoring.ScoringError, match="whole numbers"):
        scoring.score(
            result_format="csv", submission=b"x.png,3\ny.png,cat\n", ground_truth=gt, max_uncompressed=MB
        )
    with pytest.raises(scoring.ScoringError, match="missing 2 file"):
        scoring.score(
            result_format="csv", submission=b"x.png,3\ny.png,1\n", ground_truth=gt, max_uncompressed=MB
        )


def corrupt_zip(files: dict[str, bytes]) -> bytes:
    """A zip whose first member's stored bytes were changed after its CRC was written (bad CRC)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    data = bytearray(out.getvalue())
    first = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[0]
    offset = first.header_offset + 30 + len(first.filename.encode()) + len(first.extra) + 20
    data[offset] ^= 0xFF
    return bytes(data)


def test_a_corrupt_zip_is_the_participants_error_at_upload_and_at_scoring():
    files = {k: png_bytes(v) for k, v in gt_images().items()}
    bad = corrupt_zip(files)
    for check in (scoring.check_upload, scoring.check_upload_isolated):
        with pytest.raises(scoring.ScoringError) as refused:
            check(
                result_format="images_zip",
                name="r.zip",
                data=bad,
                max_bytes=10 * MB,
                max_uncompressed=10 * MB,
            )
        assert str(refused.value).startswith("The uploaded zip is corrupt: Bad CRC-32 for file '0001.png'")
    gt = zip_bytes(files)
    with pytest.raises(scoring.ScoringError) as refused:
        scoring.score_isolated(
            result_format="images_zip", submission=bad, ground_truth=gt, max_uncompressed=10 * MB
        )
    assert "corrupt" in str(refused.value)


def test_the_sandboxed_scorer_gives_the_same_scores():
    gt = zip_bytes({k: png_bytes(v) for k, v in gt_images().items()})
    pred = {k: png_bytes(np.clip(v.astype(int) + 3, 0, 255).astype(np.uint8)) for k, v in gt_images().items()}
    inline = scoring.score(
        result_format="images_zip", submission=zip_bytes(pred), ground_truth=gt, max_uncompressed=10 * MB
    )
    isolated = scoring.score_isolated(
        result_format="images_zip", submission=zip_bytes(pred), ground_truth=gt, max_uncompressed=10 * MB
    )
    assert isolated.scores == pytest.approx(inline.scores)
    assert [r["name"] for r in isolated.per_file] == ["0001.png", "0002.png"]


def test_classification_rows_never_carry_the_hidden_label():
    gt = b"a.jpg,3\nb.jpg,7\n"
    result = scoring.score(
        result_format="csv", submission=b"a.jpg,3,1\nb.jpg,1,7\n", ground_truth=gt, max_uncompressed=MB
    )
    assert all("label" not in row for row in result.per_file)
    assert result.scores == {"top1": 50.0, "top3": 100.0}
