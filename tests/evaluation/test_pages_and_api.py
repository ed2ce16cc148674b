"""The "Check my runtime" page, the device list and the REST API with token auth, as a participant
uses them: what they see, what errors say, who may see which job, the documented schema."""

import contextlib
import http.client
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation.models import RuntimeJob
from tests.factories import api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant(client, make_user):
    user = make_user(email="runner@uni.example")
    client.force_login(user)
    return user


def post_model(client, path, **fields):
    data = {
        "device": "host-cpu",
        "accelerator": "xnnpack",
        "threads": 1,
        "warmup_runs": 1,
        "timed_runs": 20,
        **fields,
        "model": SimpleUploadedFile(path.name, path.read_bytes()),
    }
    return client.post("/evaluation/check-runtime/", data)


def test_page_needs_login(client):
    response = client.get("/evaluation/check-runtime/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_upload_goes_to_the_job_page_with_queue_position(client, participant, host_cpu, tflite_models):
    response = post_model(client, tflite_models["conv_int8"])
    job = RuntimeJob.objects.get(owner=participant)
    assert response.status_code == 302 and response["Location"] == f"/evaluation/jobs/{job.uid}/"
    page = client.get(response["Location"]).content.decode()
    assert (
        "conv_int8.tflite" in page
        and "Position in the queue of" in page
        and "<strong>1</strong> (next)" in page
    )
    assert 'hx-trigger="every 1s"' in page and "uint8" in page and "full-integer" in page
    history = client.get("/evaluation/check-runtime/").content.decode()
    assert f'href="/evaluation/jobs/{job.uid}/"' in history and "Queued" in history


def test_finished_job_shows_results_and_stops_polling(client, participant, host_cpu, tflite_models):
    post_model(client, tflite_models["conv_int8"])
    RuntimeJob.objects.filter(owner=participant).update(
        state="done",
        mean_ms=1.234,
        median_ms=1.2,
        std_ms=0.01,
        min_ms=1.1,
        max_ms=1.5,
        init_ms=3,
        first_inference_ms=2,
        peak_memory_mb=17.4,
        runs=20,
        runtime_version="LiteRT 2.3.0",
    )
    job = RuntimeJob.objects.get(owner=participant)
    fragment = client.get(f"/evaluation/jobs/{job.uid}/status/").content.decode()
    assert "1.234 ms" in fragment and "17.4 MB" in fragment and "LiteRT 2.3.0" in fragment
    assert "hx-trigger" not in fragment


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("random", {}, "This is not a TensorFlow Lite model"),
        ("custom_op", {}, "“MaiSecretOp”, which LiteRT does not provide"),
        ("truncated", {"accelerator": "cpu"}, "LiteRT cannot load this model"),
    ],
)
def test_bad_models_show_a_clear_error(client, participant, host_cpu, bad_models, name, fields, message):
    response = post_model(client, bad_models[name], **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RuntimeJob.objects.exists()


def test_unknown_device_and_missing_accelerator(client, participant, host_cpu, tflite_models):
    response = post_model(client, tflite_models["conv_int8"], accelerator="gpu")
    assert response.status_code == 400
    assert "has no GPU accelerator; it offers CPU, CPU (XNNPACK)." in response.content.decode()
    response = post_model(client, tflite_models["conv_int8"], device="galaxy-s21")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_rate_limit_message_on_the_page(client, participant, host_cpu, tflite_models, settings):
    settings.EVALUATION_RATE_LIMIT = 1
    assert post_model(client, tflite_models["conv_int8"]).status_code == 302
    response = post_model(client, tflite_models["conv_int8"])
    assert response.status_code == 429
    assert "the limit is 1 per hour" in response.content.decode()


def test_500_mb_upload_is_refused_before_it_is_read(
    live_server, transactional_db, make_user, password, host_cpu
):
    """A real HTTP request announcing 500 MB: the answer comes after 1 MB has been sent."""
    from django.test import Client

    user = make_user(email="big@uni.example")
    browser = Client()
    browser.force_login(user)
    session = browser.cookies["sessionid"].value
    url = urlparse(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    boundary = "mai-boundary"
    conn.putrequest("POST", "/evaluation/check-runtime/")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(500 * 1024 * 1024))
    conn.putheader("Cookie", f"sessionid={session}")
    conn.endheaders()
    conn.send(
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="big.tflite"\r\n\r\n'.encode()
    )
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.send(b"\0" * (1024 * 1024))
    response = conn.getresponse()
    body = response.read().decode()
    assert response.status == 413
    assert "The file is 500.0 MB; the largest model accepted is 200.0 MB." in body
    assert not RuntimeJob.objects.exists()


def test_device_list_shows_what_each_device_runs(client, host_cpu):
    page = client.get("/evaluation/devices/").content.decode()
    assert host_cpu.name in page and "CPU (XNNPACK)" in page and "online" in page


# --- API -------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, make_user):
    user = make_user(email="script@uni.example")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token(user)}"
    return client


def test_api_create_list_and_detail_with_token(api, host_cpu, tflite_models):
    devices = api.get("/api/evaluation/devices/").json()
    assert devices[0]["slug"] == "host-cpu" and devices[0]["accelerators"] == ["cpu", "xnnpack"]
    assert devices[0]["status"] == "online"
    with tflite_models["conv_float"].open("rb") as fh:
        created = api.post(
            "/api/evaluation/jobs/",
            {"model": fh, "device": "host-cpu", "accelerator": "cpu", "timed_runs": 5},
        )
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["state"] == "queued" and job["queue_position"] == 1 and job["options"]["timed_runs"] == 5
    assert job["model_info"]["inputs"][0]["shape"] == [1, 32, 32, 3]
    detail = api.get(f"/api/evaluation/jobs/{job['uid']}/").json()
    assert detail["uid"] == job["uid"] and detail["mean_ms"] is None
    assert [j["uid"] for j in api.get("/api/evaluation/jobs/").json()] == [job["uid"]]


def test_api_errors_are_readable(api, host_cpu, bad_models, tflite_models):
    with bad_models["random"].open("rb") as fh:
        response = api.post(
            "/api/evaluation/jobs/", {"model": fh, "device": "host-cpu", "accelerator": "cpu"}
        )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("This is not a TensorFlow Lite model")
    with tflite_models["conv_float"].open("rb") as fh:
        response = api.post("/api/evaluation/jobs/", {"model": fh, "device": "nowhere", "accelerator": "cpu"})
    assert response.json()["errors"] == ["There is no device “nowhere”. Choose one from the device list."]
    response = api.post("/api/evaluation/jobs/", {}, CONTENT_LENGTH=str(600 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["errors"] == ["The file is 600.0 MB; the largest model accepted is 200.0 MB."]


def test_jobs_are_private_to_their_owner(api, client, host_cpu, tflite_models, make_user):
    with tflite_models["conv_float"].open("rb") as fh:
        uid = api.post(
            "/api/evaluation/jobs/", {"model": fh, "device": "host-cpu", "accelerator": "cpu"}
        ).json()["uid"]
    other = make_user(email="other@uni.example")
    token = api_token(other)
    assert api.get(f"/api/evaluation/jobs/{uid}/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 404
    from django.test import Client

    browser = Client()
    browser.force_login(other)
    assert browser.get(f"/evaluation/jobs/{uid}/").status_code == 404
    assert browser.get(f"/evaluation/jobs/{uid}/status/").status_code == 404
    assert api.get("/api/evaluation/jobs/", HTTP_AUTHORIZATION="").status_code == 401


def test_schema_documents_the_evaluation_api(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/evaluation/jobs/" in paths and "post" in paths["/api/evaluation/jobs/"]
    assert "/api/evaluation/hosts/jobs/{uid}/report/" in paths
    assert paths["/api/evaluation/jobs/"]["post"]["summary"] == "Check a model's runtime on a device"
