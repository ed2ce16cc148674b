"""Fixtures of the conversion tests: real Keras models saved as users upload them (built once per
session: a MobileNetV2-style classifier at alpha 0.35 and 32×32, a small U-Net-style ×3 up-scaler, a
model with a Lambda layer, a SavedModel using an operator TFLite lacks), and tracks with MAI-style
contracts scaled down to them (scene detection: uint8 1×32×32×3 → uint8 1×30; quantised ×3
super-resolution: uint8 1×24×32×3 → uint8 1×72×96×3), with calibration data."""

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from challenges.models import DataFile, Milestone

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SR_IN = (24, 32, 3)
SR_OUT = (72, 96, 3)
SCENE_IN = (32, 32, 3)


def _zip_folder(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"exported/{path.relative_to(folder)}")
    return out.getvalue()


@pytest.fixture(scope="session")
def keras_models(tmp_path_factory) -> dict[str, Path]:
    import keras
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("conversion-models")
    keras.utils.set_random_seed(0)

    inputs = keras.Input(shape=SCENE_IN, batch_size=1)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    backbone = keras.applications.MobileNetV2(
        input_shape=SCENE_IN, alpha=0.35, weights=None, classes=30, classifier_activation="softmax"
    )
    mobilenet = keras.Model(inputs, backbone(x))
    mobilenet.save(folder / "mobilenet_v2.keras")

    inputs = keras.Input(shape=SR_IN, batch_size=1)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    skip = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    down = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(skip)
    up = keras.layers.Conv2DTranspose(8, 2, strides=2, activation="relu")(down)
    merged = keras.layers.Concatenate()([up, skip])
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(merged)
    x = keras.layers.Conv2DTranspose(3, 3, strides=3)(x)
    outputs = keras.layers.Rescaling(255.0)(keras.layers.Activation("sigmoid")(x))
    unet = keras.Model(inputs, outputs)
    unet.save(folder / "unet_x3.keras")

    inputs = keras.Input(shape=SR_IN, batch_size=1)
    lam = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    lam.save(folder / "lambda.keras")

    class Determinant(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 24, 32, 3], tf.float32)])
        def serve(self, x):
            square = tf.reshape(x[:, :3, :3, 0], [1, 3, 3])
            return {"output": tf.reshape(tf.linalg.det(square), [1, 1])}

    module = Determinant()
    tf.saved_model.save(module, str(folder / "det_savedmodel"), signatures={"serving_default": module.serve})
    (folder / "custom_op_savedmodel.zip").write_bytes(_zip_folder(folder / "det_savedmodel"))
    return {p.stem: p for p in folder.iterdir() if p.is_file()}


def set_milestones(challenge, **offsets):
    now = timezone.now()
    for kind, days in offsets.items():
        Milestone.objects.update_or_create(
            challenge=challenge, kind=kind, defaults={"at": now + dt.timedelta(days=days)}
        )


def smooth_images(n: int, shape, seed: int) -> np.ndarray:
    """Images like photographs (smooth gradients plus texture) as uint8 in [0, 255]."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for _ in range(n):
        base = rng.uniform(0, 255, c) * (xx[..., None] / w) + rng.uniform(0, 255, c) * (yy[..., None] / h)
        out.append(np.clip(base / 2 + rng.normal(0, 20, (h, w, c)) + 60, 0, 255).astype(np.uint8))
    return np.stack(out)


def converted_outputs(conversion, samples) -> list:
    """The outputs of a conversion's stored .tflite (LiteRT, fed NHWC float samples, quantised for a
    uint8 input), as float (dequantised from a uint8 output)."""
    from ai_edge_litert.interpreter import Interpreter

    from conversion import services

    interp = Interpreter(model_content=services.conversion_result_bytes(conversion=conversion))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    converted = []
    for sample in samples:
        x = sample.astype(np.float32)[None]
        scale, zero = inp["quantization"]
        feed = np.clip(np.round(x / scale + zero), 0, 255) if inp["dtype"] == np.uint8 else x
        interp.set_tensor(inp["index"], feed.astype(inp["dtype"]))
        interp.invoke()
        y = interp.get_tensor(out["index"]).astype(np.float32)
        if out["dtype"] == np.uint8:
            y = (y - out["quantization"][1]) * out["quantization"][0]
        converted.append(y[0])
    return converted


def assert_image_fidelity(report: dict, originals, converted, *, kind: str, samples: int) -> None:
    """A conversion's fidelity report against PSNR and SSIM computed here (scikit-image) between the
    source model's outputs and the .tflite's on the same samples, with what each kind may cost."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    psnrs = [peak_signal_noise_ratio(a, b, data_range=255) for a, b in zip(originals, converted, strict=True)]
    ssims = [
        structural_similarity(
            a,
            b,
            data_range=255,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for a, b in zip(originals, converted, strict=True)
    ]
    assert report["kind"] == "image" and report["samples"] == samples
    assert report["ssim"] == pytest.approx(np.mean(ssims), abs=1e-4)
    if kind == "float32":
        assert report["psnr"] is None or report["psnr"] > 80 and np.mean(psnrs) > 80
    else:
        assert report["psnr"] == pytest.approx(np.mean(psnrs), abs=0.05)
    if kind == "int8":
        assert 20 < report["psnr"] < 60  # what INT8 costs, in dB against the float model


def npz_bytes(arrays: dict) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.fixture
def workshop(db):
    from tests.factories import WorkshopFactory

    return WorkshopFactory(slug="mai-conv", short_name="MAI Conv", start_date=timezone.now().date())


@pytest.fixture
def sr_track(workshop):
    """Quantised ×3 super-resolution, as MAI's (uint8 in and out, INT8 required), scaled down; its
    organisers uploaded a calibration set."""
    from conversion.models import CalibrationSet
    from tests.factories import ChallengeFactory

    track = ChallengeFactory(
        workshop=workshop,
        slug="quantized-sr",
        title="Quantized Image Super-Resolution",
        input_shape=[1, *SR_IN],
        input_dtype="uint8",
        output_shape=[1, *SR_OUT],
        output_dtype="uint8",
        int8_required=True,
    )
    data = npz_bytes({f"{i:04d}": a for i, a in enumerate(smooth_images(12, SR_IN, seed=1))})
    calibration = CalibrationSet(
        challenge=track, original_name="div2k_lr.npz", samples=12, sample_shape=list(SR_IN)
    )
    calibration.file.save("div2k_lr.npz", ContentFile(data), save=False)
    calibration.save()
    return track


@pytest.fixture
def scene_track(workshop):
    """Quantised camera scene detection (30 classes, uint8 in and out), calibrated on its released
    validation inputs (no calibration set)."""
    from challenges.finalphase.models import FinalPhaseSettings
    from tests.factories import ChallengeFactory

    track = ChallengeFactory(
        workshop=workshop,
        slug="scene-detection",
        title="Quantized Camera Scene Detection",
        input_shape=[1, *SCENE_IN],
        input_dtype="uint8",
        output_shape=[1, 30],
        output_dtype="uint8",
        int8_required=True,
    )
    set_milestones(track, website_online=-30, train_data=-29, validation_server=-28, test_data=20)
    data = npz_bytes({f"val_{i:04d}": a for i, a in enumerate(smooth_images(10, SCENE_IN, seed=2))})
    f = DataFile(
        challenge=track, split=DataFile.Split.VALIDATION_INPUT, title="Validation inputs", size=len(data)
    )
    f.file.save("validation_inputs.npz", ContentFile(data), save=False)
    f.save()
    FinalPhaseSettings.objects.create(challenge=track, device_slug="host-cpu", accelerator="gpu")
    return track
