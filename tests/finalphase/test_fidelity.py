"""The fidelity job's plain parts: hidden-data loaders, the sandboxed run (quantised I/O, dynamic resize,
time limit, broken files) and the metrics against the ground truth (no database)."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from challenges import metrics
from challenges.finalphase.fidelity import FidelityError, compute_metrics, load_arrays, run_model


def png(array) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_loaders_read_npz_zip_of_pngs_and_csv_labels():
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (4, 5, 3)).astype(np.uint8) for _ in range(2))
    npz = io.BytesIO()
    np.savez(npz, **{"0002.png": b, "0001.png": a})
    loaded = load_arrays("test.npz", npz.getvalue())
    assert list(loaded) == ["0001", "0002"] and (loaded["0001"] == a).all()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("gt/0001.png", png(a))
        zf.writestr("gt/0002.png", png(b))
        zf.writestr("__MACOSX/._0001.png", b"junk")
        zf.writestr("gt/.DS_Store", b"junk")
    loaded = load_arrays("gt.zip", archive.getvalue())
    assert set(loaded) == {"0001", "0002"} and (loaded["0002"] == b).all()
    labels = load_arrays("labels.csv", b"image,label\n0001.jpg,7\n0002.jpg,29\n")
    assert {k: int(v) for k, v in labels.items()} == {"0001": 7, "0002": 29}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.npz", b"not an npz", "cannot be read"),
        ("x.zip", b"PK\x03\x04broken", "cannot be read"),
        ("x.txt", b"1,2", "not an .npz, .npy, .csv or .zip"),
    ],
)
def test_loaders_refuse_unreadable_files(name, data, message):
    with pytest.raises(FidelityError, match=message):
        load_arrays(name, data)


def test_int8_model_gets_quantised_inputs_and_dequantised_outputs(tflite_models):
    rng = np.random.default_rng(1)
    inputs = {"a": rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)}
    as_float = run_model(tflite_models["conv_float"], inputs)["a"]
    as_int8 = run_model(tflite_models["conv_int8"], inputs)["a"]
    assert as_int8.dtype == np.float32 and as_int8.shape == (1, 32, 32, 3)
    # The INT8 copy of the same network stays close to the float one on the 0…255 scale.
    assert metrics.psnr(np.clip(as_float[0], 0, 255), np.clip(as_int8[0], 0, 255)) > 25


def test_dynamic_model_is_resized_to_each_input(tflite_models):
    rng = np.random.default_rng(2)
    inputs = {
        "small": rng.integers(0, 256, (16, 24, 3)).astype(np.uint8),
        "large": rng.integers(0, 256, (64, 40, 3)).astype(np.uint8),
    }
    seen = []
    out = run_model(tflite_models["conv_dynamic"], inputs, on_progress=lambda d, n: seen.append((d, n)))
    assert out["small"].shape == (1, 16, 24, 3) and out["large"].shape == (1, 64, 40, 3)
    assert seen and seen[-1] == (2, 2)


def test_time_limit_stops_the_run_with_a_clear_message(tflite_models):
    rng = np.random.default_rng(3)
    inputs = {f"{i}": rng.integers(0, 256, (512, 512, 3)).astype(np.uint8) for i in range(60)}
    with pytest.raises(FidelityError, match="did not finish the 60 test inputs within 0.3 s"):
        run_model(tflite_models["conv_dynamic"], inputs, time_limit_s=0.3)


def test_broken_model_and_no_data(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0\0\0\0TFL3" + b"\0" * 64)
    with pytest.raises(FidelityError, match="failed on the hidden test data"):
        run_model(bad, {"a": np.zeros((32, 32, 3), np.uint8)})
    with pytest.raises(FidelityError, match="no hidden test inputs"):
        run_model(bad, {})


def test_metrics_against_ground_truth_and_mismatches():
    rng = np.random.default_rng(4)
    gt = {k: rng.integers(0, 256, (16, 16, 3)).astype(np.uint8) for k in "ab"}
    out = {k: (v.astype(np.float32) + 2.0)[None] for k, v in gt.items()}
    values = compute_metrics(["psnr", "ssim"], out, gt)
    assert values["psnr"] == pytest.approx(
        np.mean([metrics.psnr(gt[k], np.clip(out[k][0], 0, 255)) for k in "ab"])
    )
    with pytest.raises(FidelityError, match="output for test input “a” is 1×4×4×3"):
        compute_metrics(["psnr"], {"a": np.zeros((1, 4, 4, 3))}, {"a": gt["a"]})
    with pytest.raises(FidelityError, match="ground truth is missing for 1 test input"):
        compute_metrics(["psnr"], {"zzz": out["a"]}, gt)
    scores = {"x": np.eye(30)[3][None] * 0.9 + np.eye(30)[5][None] * 0.5, "y": np.eye(30)[1][None]}
    acc = compute_metrics(["top1", "top3"], scores, {"x": np.asarray(5), "y": np.asarray(1)})
    assert acc == {"top1": 50.0, "top3": 100.0}  # in %, as the challenge side's leaderboards
    depth = compute_metrics(
        ["si_rmse", "rmse", "rel"], {"d": np.full((1, 4, 4, 1), 2000.0)}, {"d": np.full((4, 4), 1000.0)}
    )
    assert depth["si_rmse"] == pytest.approx(0.0) and depth["rmse"] == pytest.approx(1000.0)
    assert depth["rel"] == pytest.approx(1.0)
