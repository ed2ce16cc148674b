"""End to end in chromium: a participant signs in, uploads a TFLite model on "Check my runtime", and
watches the job go from the queue to the results (htmx polling, no reload), measured by a real device
worker process on this host's CPU."""

import re

import pytest
from django.template.defaultfilters import floatformat

from evaluation.models import RuntimeJob
from tests.evaluation.conftest import bad_models, device_worker, registered  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def test_participant_checks_runtime_and_sees_the_numbers(
    live_server,
    page,
    make_user,
    password,
    registered,  # noqa: F811
    tflite_models,
    bad_models,
):  # noqa: F811
    make_user(email="runtime@uni.example")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("runtime@uni.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="Check my runtime").click()
    page.wait_for_url(f"{live_server.url}/evaluation/check-runtime/")

    # A file that is not a model: a clear message, nothing queued.
    page.get_by_label("TFLite model (.tflite)").set_input_files(str(bad_models["random"]))
    page.get_by_role("button", name="Run on the device").click()
    assert "This is not a TensorFlow Lite model" in page.get_by_test_id("form-errors").inner_text()

    # Someone else's slow model (~7 s on plain CPU kernels) occupies the device, so ours waits in line.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from evaluation.services import runtime_job_create

    runtime_job_create(
        owner=make_user(),
        model_file=SimpleUploadedFile("slow.tflite", tflite_models["conv_dynamic"].read_bytes()),
        device="host-cpu",
        accelerator="cpu",
        options={"input_shapes": {0: [1, 1024, 1024, 3]}, "timed_runs": 60},
    )

    page.get_by_label("TFLite model (.tflite)").set_input_files(str(tflite_models["conv_int8"]))
    page.get_by_label("Device").select_option("host-cpu")
    page.get_by_label("Accelerator").select_option("xnnpack")
    page.get_by_label("Timed runs").fill("50")
    page.get_by_role("button", name="Run on the device").click()
    page.wait_for_url(re.compile(r".*/evaluation/jobs/[0-9a-f-]+/$"))
    url_after_upload = page.url
    assert "Position in the queue of Host CPU" in page.get_by_test_id("queue-position").inner_text()
    assert page.get_by_test_id("job-state").inner_text() == "Queued"

    mean = page.get_by_test_id("mean-ms")
    mean.wait_for(timeout=60000)
    job = RuntimeJob.objects.get(owner__email="runtime@uni.example")
    assert RuntimeJob.objects.get(model_name="slow.tflite").finished_at <= job.started_at
    # 50 timed runs in each repetition (the form's default: 3), all counted.
    assert job.state == "done" and job.options["repetitions"] == 3 and len(job.repetitions) == 3
    assert job.runs == 50 * 3
    assert mean.inner_text() == f"{floatformat(job.mean_ms, 3)} ms"
    assert page.get_by_test_id("job-state").inner_text() == "Done"
    assert page.get_by_test_id("peak-memory").inner_text() == f"{floatformat(job.peak_memory_mb, 1)} MB"
    assert page.url == url_after_upload  # the results came in without navigating

    page.get_by_role("link", name="Check another model").click()
    history = page.get_by_test_id("history").inner_text()
    assert "conv_int8.tflite" in history and f"{job.mean_ms:.3f} ms" in history
