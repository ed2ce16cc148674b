"""Conversions through the services, as the `conversion.run` task runs them (the sandbox converts with
TensorFlow): each output kind of a MobileNetV2-style classifier and a U-Net-style ×3 up-scaler, the
INT8 results accepted by the scene- and sr_x3-style contracts, the fidelity report checked against a
direct computation (Keras and LiteRT in this process, scikit-image's PSNR/SSIM), and every bad input
refused with its message."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversion import services
from conversion.models import CalibrationSet, Conversion
from tests.conversion.conftest import (
    SCENE_IN,
    SR_IN,
    assert_image_fidelity,
    converted_outputs,
    npz_bytes,
    smooth_images,
)

pytestmark = pytest.mark.django_db

FIDELITY_SAMPLES = 3


@pytest.fixture(autouse=True)
def _few_samples(settings):
    settings.CONVERSION_FIDELITY_SAMPLES = FIDELITY_SAMPLES


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def convert(owner, path, kind, **kwargs) -> Conversion:
    conversion = services.conversion_create(owner=owner, upload=upload(path), output_kind=kind, **kwargs)
    services.conversion_run(conversion_id=conversion.pk)
    conversion.refresh_from_db()
    return conversion


def direct_outputs(keras_path, conversion, samples):
    """Original (Keras, in this process) and converted (LiteRT on the stored result) outputs."""
    import keras

    model = keras.saving.load_model(keras_path, compile=False)
    originals = [np.asarray(model(sample.astype(np.float32)[None], training=False))[0] for sample in samples]
    return originals, converted_outputs(conversion, samples)


@pytest.mark.parametrize("kind", ["float32", "float16", "dynamic_range", "int8"])
def test_unet_converts_to_each_kind_and_the_int8_one_fits_the_sr_contract(
    make_user, keras_models, sr_track, kind
):

    conversion = convert(
        make_user(), keras_models["unet_x3"], kind, challenge=sr_track, dynamic_copy=kind == "int8"
    )
    assert conversion.state == "done", conversion.error_message
    info = conversion.model_info
    assert info["inputs"][0]["shape"] == [1, *SR_IN] and info["outputs"][0]["shape"] == [1, 72, 96, 3]
    expected_kind = {
        "float32": "float32",
        "float16": "float16",
        "dynamic_range": "dynamic-range",
        "int8": "full-integer",
    }
    assert info["kind"] == expected_kind[kind]
    if kind == "int8":
        assert conversion.contract_problems == []  # the same intake and contract as a final submission
        assert info["inputs"][0]["dtype"] == "uint8" and info["outputs"][0]["dtype"] == "uint8"
        assert conversion.dynamic_file and conversion.calibration_source == "calibration set div2k_lr.npz"
        assert conversion.fidelity["calibration_samples"] == 12
    else:
        assert any("requires a full-integer INT8 model" in p for p in conversion.contract_problems)

    samples = smooth_images(12, SR_IN, seed=1)[:FIDELITY_SAMPLES]  # the calibration set, in its order
    originals, converted = direct_outputs(keras_models["unet_x3"], conversion, samples)
    assert_image_fidelity(conversion.fidelity, originals, converted, kind=kind, samples=FIDELITY_SAMPLES)


# float16 and dynamic-range are covered on the U-Net above; MobileNetV2 takes ~4 s per conversion.
@pytest.mark.parametrize("kind", ["float32", "int8"])
def test_mobilenet_converts_to_each_kind_and_the_int8_one_fits_the_scene_contract(
    make_user, keras_models, scene_track, kind
):
    conversion = convert(make_user(), keras_models["mobilenet_v2"], kind, challenge=scene_track)
    assert conversion.state == "done", conversion.error_message
    assert conversion.model_info["outputs"][0]["shape"] == [1, 30]
    if kind == "int8":
        assert conversion.contract_problems == []
        assert conversion.calibration_source == "released validation file “Validation inputs”"
    samples = smooth_images(10, SCENE_IN, seed=2)[:FIDELITY_SAMPLES]
    originals, converted = direct_outputs(keras_models["mobilenet_v2"], conversion, samples)
    agreeing = sum(int(np.argmax(a) == np.argmax(b)) for a, b in zip(originals, converted, strict=True))
    report = conversion.fidelity
    assert report["kind"] == "classification"
    assert report["agreeing"] == agreeing and report["top1_agreement"] == pytest.approx(
        agreeing / FIDELITY_SAMPLES
    )
    # The track's device takes the GPU delegate: MobileNetV2's operators are all on its list.
    assert (
        conversion.delegate_report["accelerator"] == "gpu" and conversion.delegate_report["unsupported"] == {}
    )


def test_a_lambda_layer_is_refused_in_safe_mode(make_user, keras_models):
    conversion = convert(make_user(), keras_models["lambda"], "float32", input_shape="1x24x32x3")
    assert conversion.state == "failed"
    assert conversion.error_message.startswith(
        "The model contains a Lambda layer (Python code stored in the file)"
    )


def test_an_output_that_cannot_match_the_contract_is_refused_with_both_shapes(
    make_user, keras_models, workshop
):
    from tests.factories import ChallengeFactory

    denoise = ChallengeFactory(workshop=workshop, input_shape=[1, *SR_IN], output_shape=[1, *SR_IN])
    conversion = convert(make_user(), keras_models["unet_x3"], "float32", challenge=denoise)
    assert conversion.state == "failed"
    assert conversion.error_message.startswith(
        "At input 1×24×32×3 the output is 1×72×96×3, the track expects 1×24×32×3."
    )


def test_an_operator_tflite_lacks_is_named(make_user, keras_models):
    conversion = convert(
        make_user(), keras_models["custom_op_savedmodel"], "float32", input_shape="1x24x32x3"
    )
    assert conversion.state == "failed"
    assert conversion.error_message.startswith(
        "The model uses operators that TFLite has no built-in kernel for"
    )
    assert "MatrixDeterminant" in conversion.error_message


def test_a_conversion_past_the_time_limit_is_stopped_and_the_next_one_runs(make_user, keras_models, settings):
    owner = make_user()
    settings.CONVERSION_TIME_LIMIT_S = 0.5
    slow = convert(owner, keras_models["unet_x3"], "float32", input_shape="1x24x32x3")
    assert slow.state == "failed"
    assert slow.error_message.startswith("The conversion ran past the time limit of 0.5 s and was stopped.")
    assert (
        services.conversion_run(conversion_id=slow.pk) is None
        and Conversion.objects.get(pk=slow.pk).attempts == 1
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("weights.pt", b"\x80\x02}q\x00.", "This is a pickled PyTorch checkpoint"),
        ("model.pth", b"PK\x03\x04", "This is a pickled PyTorch checkpoint"),
        ("model.pt2", b"\x80\x02}q\x00.", "This .pt2 file is not a PyTorch exported program"),
        ("model.onnx", b"\x89PNG\r\n\x1a\n-not-onnx", "This file is not an ONNX model"),
        ("model.keras", b"not a zip", "This is not a Keras .keras file"),
        ("model.tflite", b"\x18\x00\x00\x00TFL3", "This is already a TFLite model"),
    ],
)
def test_files_that_are_not_converted_here_are_refused_before_anything_is_stored(
    make_user, name, content, message
):
    with pytest.raises(services.ConversionRefused) as refused:
        services.conversion_create(
            owner=make_user(),
            upload=SimpleUploadedFile(name, content),
            output_kind="float32",
            input_shape="1x8x8x3",
        )
    assert refused.value.messages[0].startswith(message)
    if "PyTorch" in message:
        assert (
            "torch.export.export(model" in refused.value.messages[0]
            and "torch.export.save(ep" in refused.value.messages[0]
        )
    assert not Conversion.objects.exists()


def test_a_real_looking_onnx_file_is_refused_saying_why_onnx_is_not_offered(make_user):
    with pytest.raises(services.ConversionRefused) as refused:
        services.conversion_create(
            owner=make_user(),
            upload=SimpleUploadedFile("m.onnx", b"\x08\x07\x12\x07pytorch"),
            output_kind="float32",
            input_shape="1x8x8x3",
        )
    assert refused.value.messages[0].startswith("ONNX models are not converted on this site: onnx2tf")


def test_too_large_a_model_is_refused(make_user, keras_models, settings):
    settings.CONVERSION_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(services.ConversionRefused) as refused:
        services.conversion_create(
            owner=make_user(),
            upload=upload(keras_models["unet_x3"]),
            output_kind="float32",
            input_shape="1x24x32x3",
        )
    assert (
        refused.value.messages[0].startswith("The model file is ")
        and "at most 1000 bytes is converted here" in refused.value.messages[0]
    )


def test_int8_needs_a_track_with_calibration_data(make_user, keras_models, workshop):
    from tests.factories import ChallengeFactory

    owner = make_user()
    with pytest.raises(services.ConversionRefused) as no_track:
        services.conversion_create(
            owner=owner, upload=upload(keras_models["unet_x3"]), output_kind="int8", input_shape="1x24x32x3"
        )
    assert no_track.value.messages == [
        "Full-integer INT8 is calibrated on a track's representative data: pick the track."
    ]
    bare = ChallengeFactory(workshop=workshop, title="Bare track", input_shape=[1, *SR_IN])
    with pytest.raises(services.ConversionRefused) as no_data:
        services.conversion_create(
            owner=owner, upload=upload(keras_models["unet_x3"]), output_kind="int8", challenge=bare
        )
    assert no_data.value.messages[0].startswith("Bare track has no calibration data yet")


def test_a_calibration_set_of_the_wrong_shape_is_refused(make_user, sr_track):
    wrong = npz_bytes(
        {"a": smooth_images(2, (32, 32, 3), seed=3)[0], "b": smooth_images(2, (32, 32, 3), seed=3)[1]}
    )
    with pytest.raises(services.ConversionRefused) as refused:
        services.calibration_set_create(
            challenge=sr_track, user=make_user(), upload=SimpleUploadedFile("cal.npz", wrong)
        )
    assert refused.value.messages == [
        "The calibration set cal.npz holds samples of 32×32×3; the track's input is 1×24×32×3, so each sample must be 24×32×3."
    ]
    assert CalibrationSet.objects.filter(challenge=sr_track).count() == 1  # only the fixture's

    right = npz_bytes({f"{i}": a for i, a in enumerate(smooth_images(5, SR_IN, seed=4))})
    stored = services.calibration_set_create(
        challenge=sr_track, user=make_user(), upload=SimpleUploadedFile("more.npz", right)
    )
    assert (stored.samples, stored.sample_shape) == (5, [24, 32, 3])


def test_the_sweep_requeues_a_conversion_whose_worker_died_and_gives_up_after_the_last_attempt(
    make_user, settings
):
    import datetime as dt

    from django.utils import timezone

    from common.models import Dispatch

    settings.CONVERSION_TIME_LIMIT_S = 60
    settings.CONVERSION_STALE_GRACE_S = 30
    owner = make_user()
    long_ago = timezone.now() - dt.timedelta(seconds=200)

    def running(attempts):
        return Conversion.objects.create(
            owner=owner,
            source_format="keras",
            source_name="m.keras",
            output_kind="float32",
            input_shape=[1, 8, 8, 3],
            state="running",
            attempts=attempts,
            started_at=long_ago,
        )

    lost, spent = running(1), running(settings.CONVERSION_MAX_ATTEMPTS)
    fresh = running(1)
    Conversion.objects.filter(pk=fresh.pk).update(started_at=timezone.now())
    assert services.conversions_sweep_stale() == {"requeued": 1, "failed": 1, "resent": 0}
    for conversion in (lost, spent, fresh):
        conversion.refresh_from_db()
    assert (
        lost.state == "queued"
        and Dispatch.objects.filter(ref=f"conversion.conversion:{lost.pk}").count() == 1
    )
    assert spent.state == "failed" and spent.error_message.startswith(
        "The worker converting this model stopped 3 times"
    )
    assert fresh.state == "running"
