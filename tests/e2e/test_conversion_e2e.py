"""End to end in chromium: a participant converts a Keras model to the quantised super-resolution track's
full-INT8 contract on "Convert a model" (a real Celery worker on the `scoring` queue converts it in the
sandbox; the page follows by htmx polling), after a model with a Lambda layer was refused on the same
worker, then sends the result to "Check my runtime" on the track's device (a real device worker)."""

import re

import pytest
from django.template.defaultfilters import filesizeformat, floatformat

from conversion.models import Conversion
from evaluation.models import RuntimeJob
from tests.conversion.conftest import keras_models, sr_track, workshop  # noqa: F401 - fixtures
from tests.evaluation.conftest import device_worker, registered  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_participant_converts_then_checks_the_runtime_of_the_result(
    live_server,
    page,
    make_user,
    password,
    celery_worker,
    registered,  # noqa: F811
    keras_models,  # noqa: F811
    sr_track,  # noqa: F811
):
    make_user(email="convert@uni.example")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("convert@uni.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="Convert a model").click()
    page.wait_for_url(f"{live_server.url}/conversion/")
    assert page.get_by_test_id("format-keras").inner_text() == "accepted"
    assert page.get_by_test_id("format-onnx").inner_text() == "not accepted"

    # A Lambda layer: converted nowhere, refused by the worker with a message.
    page.get_by_label("Model file").set_input_files(str(keras_models["lambda"]))
    page.get_by_label("Input shape").fill("1x24x32x3")
    page.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r".*/conversion/[0-9a-f-]+/$"))
    error = page.get_by_test_id("conversion-error")
    error.wait_for(timeout=90000)
    assert error.inner_text().startswith("The model contains a Lambda layer")

    # The U-Net to the track's full-INT8 contract, on the same worker.
    page.get_by_role("link", name="Convert another model").click()
    page.get_by_label("Model file").set_input_files(str(keras_models["unet_x3"]))
    page.get_by_label("Track").select_option(label=f"MAI Conv: {sr_track.title}")
    assert "uint8 1×24×32×3 → uint8 1×72×96×3" in page.get_by_test_id("track-contract").inner_text()
    assert page.get_by_label("Input shape").is_hidden()
    page.get_by_label(re.compile(r"^Output")).select_option("int8")
    page.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r".*/conversion/[0-9a-f-]+/$"))
    url = page.url
    verdict = page.get_by_test_id("contract-verdict")
    verdict.wait_for(timeout=90000)
    conversion = Conversion.objects.get(owner__email="convert@uni.example", state="done")
    assert (
        verdict.inner_text() == f"Accepted by the intake of {sr_track.title}: it fits the track's contract."
    )
    assert page.get_by_test_id("conversion-state").inner_text() == "Done"
    assert page.get_by_test_id("result-kind").inner_text() == "full-integer"
    assert page.get_by_test_id("result-size").inner_text() == filesizeformat(conversion.result_size)
    assert page.get_by_test_id("output-0").inner_text().startswith("uint8 1×72×96×3")
    assert (
        page.get_by_test_id("fidelity-psnr").inner_text()
        == f"{floatformat(conversion.fidelity['psnr'], 2)} dB"
    )
    assert page.url == url  # the result came in without navigating
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # usable on a phone

    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert download.value.suggested_filename == "unet_x3_int8.tflite"

    page.get_by_role("button", name="Check my runtime on the track's device").click()
    page.wait_for_url(re.compile(r".*/evaluation/jobs/[0-9a-f-]+/$"))
    mean = page.get_by_test_id("mean-ms")
    mean.wait_for(timeout=60000)
    job = RuntimeJob.objects.get(owner__email="convert@uni.example")
    assert job.state == "done" and job.model_name == "unet_x3_int8.tflite" and job.device.slug == "host-cpu"
    assert mean.inner_text() == f"{floatformat(job.mean_ms, 3)} ms"
    assert Conversion.objects.get(pk=conversion.pk).runtime_job_id == job.pk
