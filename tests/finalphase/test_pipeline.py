"""The whole final phase through real workers: a Celery worker process (queues `default` and
`scoring`) runs the fidelity job on generated hidden data, a device worker process measures the runtime
on `host-cpu` and reports to the live server, whose `runtime_job_finished` receiver concludes the
submission; then the score, the failure reasons and the limit are checked."""

import csv
import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from challenges.finalphase.models import ModelSubmission
from challenges.finalphase.services import scores, submissions
from challenges.finalphase.services.base import FinalPhaseRefused
from tests.conftest import wait_for
from tests.evaluation.workers import shared_device_worker
from tests.finalphase.conftest import hidden_data, reference_outputs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def final_device_worker(live_server, django_db_setup, django_db_blocker):
    """The session's host-cpu device worker (shared: one worker per device queue)."""
    yield from shared_device_worker(live_server, django_db_blocker)


@pytest.fixture
def host_cpu(final_device_worker):
    """The device row, registered (again, after each test's flush) by the worker's heartbeat."""
    from evaluation.models import Device

    return wait_for(lambda: Device.objects.filter(slug="host-cpu").first(), timeout=30)


@pytest.fixture(scope="session")
def nan_model(tflite_models, tmp_path_factory):
    """conv_float with its last convolution's bias set to NaN: it passes the contract, outputs NaN."""
    from ai_edge_litert.tools import flatbuffer_utils as fu

    model = fu.read_model_from_bytearray(bytearray(tflite_models["conv_float"].read_bytes()))
    graph = model.subgraphs[0]
    conv = [op for op in graph.operators if len(op.inputs) == 3][-1]
    bias = graph.tensors[conv.inputs[2]]
    buffer = model.buffers[bias.buffer]
    buffer.data = np.full(len(buffer.data) // 4, np.nan, dtype=np.float32).view(np.uint8)
    path = tmp_path_factory.mktemp("nan") / "nan.tflite"
    path.write_bytes(bytes(fu.convert_object_to_bytearray(model)))
    return path


def submit(challenge, user, path, **kwargs):
    return submissions.model_submission_create(
        challenge=challenge,
        user=user,
        model_file=SimpleUploadedFile("model.tflite", path.read_bytes()),
        **kwargs,
    )


def finished(submission, timeout=120):
    return wait_for(
        lambda: ModelSubmission.objects.filter(pk=submission.pk, status__in=["done", "failed"]).first(),
        timeout=timeout,
        interval=0.2,
    )


def test_model_scored_on_hidden_data_and_timed_on_host_cpu(
    challenge, team, participant, tflite_models, nan_model, celery_worker, host_cpu
):
    from challenges import metrics
    from evaluation.models import RuntimeJob

    rng = np.random.default_rng(7)
    inputs = {f"{i:04d}": rng.integers(0, 256, (32, 32, 3)).astype(np.uint8) for i in range(4)}
    outputs = reference_outputs(tflite_models["conv_float"], inputs)
    truth = {
        k: np.clip(np.round(v + rng.normal(0, 4, v.shape)), 0, 255).astype(np.uint8)
        for k, v in outputs.items()
    }
    hidden_data(challenge, inputs=inputs, truth=truth)
    scores.final_settings_update(challenge=challenge, constants={"C": 0.5}, max_submissions=1, timed_runs=5)

    # A model that passes the contract but outputs NaN: fails with the reason, does not use the limit.
    bad = finished(submit(challenge, participant, nan_model))
    assert bad.status == "failed" and bad.fidelity_status == "failed"
    assert "NaN or infinite" in bad.error and bad.score is None

    good = finished(submit(challenge, participant, tflite_models["conv_float"], method_name="Tiny UNet"))
    assert good.status == "done", good.error
    expected_psnr = np.mean([metrics.psnr(truth[k], np.clip(outputs[k], 0, 255)) for k in inputs])
    expected_ssim = np.mean([metrics.ssim(truth[k], np.clip(outputs[k], 0, 255)) for k in inputs])
    assert good.metrics["psnr"] == pytest.approx(expected_psnr, abs=1e-4)
    assert good.metrics["ssim"] == pytest.approx(expected_ssim, abs=1e-5)
    assert good.fidelity_progress == "4 of 4 test inputs"
    job = RuntimeJob.objects.get(pk=good.runtime_job_id)
    assert job.purpose == "final" and job.device.slug == "host-cpu" and job.runs == 5
    assert good.runtime_ms == job.mean_ms > 0 and good.memory_mb == job.peak_memory_mb
    assert good.device_name == host_cpu.name
    assert good.score == pytest.approx(2 ** (2 * good.metrics["psnr"]) / (0.5 * good.runtime_ms))
    # The leaderboard and its CSV say at which input shape the runtime was measured.
    from challenges.finalphase import export, selectors

    board = selectors.final_leaderboard(challenge=challenge)
    assert [s.runtime_input for s in board.standings] == [job.input_shape_display]
    assert job.input_shape_display == "×".join(str(d) for d in job.model_info["inputs"][0]["shape"])
    rows = list(csv.DictReader(io.StringIO(export.results_csv(columns=board.columns, rows=board.rows()))))
    assert (rows[0]["measured_on"], rows[0]["runtime_input"]) == (host_cpu.name, job.input_shape_display)

    from conference.models import OutgoingMail

    mails = {m.subject: m for m in OutgoingMail.objects.filter(to=[participant.email])}
    failed_mail = mails["[MAI Test] Learned Smartphone ISP: your final submission failed"]
    assert (
        "NaN or infinite" in failed_mail.body
        and "does not count against your submission limit" in failed_mail.body
    )
    done_mail = mails["[MAI Test] Learned Smartphone ISP: your final submission was measured"]
    assert str(good.public_id) in done_mail.body and "psnr" not in done_mail.body.lower()

    # The limit (1) is used by the valid submission only.
    with pytest.raises(FinalPhaseRefused, match="used all 1"):
        submit(challenge, participant, tflite_models["conv_float"])


def test_fixed_model_on_larger_hidden_data_fails_with_the_reason_and_dynamic_model_runs(
    challenge, team, participant, tflite_models, celery_worker, host_cpu
):
    rng = np.random.default_rng(3)
    inputs = {"img": rng.integers(0, 256, (48, 64, 3)).astype(np.uint8)}
    outputs = reference_outputs(tflite_models["conv_dynamic"], inputs)
    hidden_data(challenge, inputs=inputs, truth={k: np.clip(v, 0, 255) for k, v in outputs.items()})
    scores.final_settings_update(challenge=challenge, timed_runs=3)

    fixed = finished(submit(challenge, participant, tflite_models["conv_float"]))
    assert fixed.status == "failed"
    assert "is 1×48×64×3 but the model takes 1×32×32×3" in fixed.fidelity_error
    # The runtime step either was skipped (not started yet) or goes on to measure on the contract's shape.
    assert fixed.runtime_status in ("skipped", "running", "done")

    both = finished(
        submit(
            challenge,
            participant,
            tflite_models["conv_float"],
            dynamic_model_file=SimpleUploadedFile("d.tflite", tflite_models["conv_dynamic"].read_bytes()),
        )
    )
    assert both.status == "done", both.error
    assert both.metrics["psnr"] == 100.0 and both.metrics["ssim"] == pytest.approx(1.0)


def test_device_refusal_fails_the_submission_with_the_reason(
    challenge, team, participant, tflite_models, celery_worker, host_cpu
):
    rng = np.random.default_rng(5)
    inputs = {"a": rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)}
    hidden_data(challenge, inputs=inputs, truth={"a": np.zeros((32, 32, 3), np.uint8)})
    scores.final_settings_update(challenge=challenge, accelerator="npu")
    s = finished(submit(challenge, participant, tflite_models["conv_float"]))
    assert s.status == "failed" and s.runtime_status == "failed"
    assert "has no NPU" in s.runtime_error and s.error.startswith("Runtime: ")
