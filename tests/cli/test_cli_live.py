"""`mai` as a subprocess against a live server over real HTTP, with a real Celery worker (scoring, PDF
checks, fidelity) and a real device worker measuring on `host-cpu`: a token made on the tokens page,
validation results scored while the command waits, a runtime job on a TensorFlow-made model with
`--wait --json`, a final model and its fact sheet, a paper and its PDF check, a chair's export, a
device operator, and revoked and read-only tokens refused with the server's own message."""

import csv
import io
import json
import os
import re
import stat
import zipfile

import httpx
import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from challenges import metrics
from challenges.finalphase.models import FactSheet, ModelSubmission
from challenges.models import DataFile, Submission
from conference.models import Paper
from evaluation.models import Device, DeviceHost, RuntimeJob
from tests import html, pdf_factory
from tests.evaluation.workers import purge_device_queue
from tests.factories import DeviceFactory
from tests.finalphase.conftest import hidden_data, make_team, reference_outputs

pytestmark = pytest.mark.django_db(transaction=True)


def _images(data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: np.asarray(Image.open(io.BytesIO(archive.read(n)))) for n in archive.namelist()}


def _data(challenge, split) -> bytes:
    with challenge.data_files.get(split=split).file.open("rb") as f:
        return f.read()


def test_login_with_a_token_from_the_page_then_submit_and_wait_for_the_score(
    live_server, celery_worker, denoising, participant, token_from_page, mai, client, tmp_path
):
    user = participant(denoising, team_name="Command Liners", email="cli@uni.example", full_name="Cli User")
    secret, _ = token_from_page(user, name="laptop", scope="submit")

    login = mai("login", "--url", live_server.url, "--token", secret)
    assert login.returncode == 0, login.stderr
    assert login.stdout.splitlines()[0] == f"Logged in to {live_server.url} as Cli User <cli@uni.example>."
    # The token is kept for the user only.
    assert stat.S_IMODE(mai.config_file.stat().st_mode) == 0o600
    assert secret in mai.config_file.read_text()

    me = mai("whoami", "--json")
    assert me.returncode == 0, me.stderr
    assert me.json()["email"] == "cli@uni.example"
    assert me.json()["token"] == {"name": "laptop", "scope": "submit"}

    tracks = mai("challenges", "--json").json()
    assert {"workshop": "mai-live", "slug": "image-denoising"}.items() <= next(
        t for t in tracks if t["slug"] == "image-denoising"
    ).items()

    # Our "method" returns the noisy validation inputs unchanged: its PSNR against the hidden clean
    # images is known in advance.
    inputs = _data(denoising, DataFile.Split.VALIDATION_INPUT)
    truth = _images(_data(denoising, DataFile.Split.VALIDATION_GT))
    noisy = _images(inputs)
    expected_psnr = np.mean([metrics.psnr(truth[n], noisy[n]) for n in truth])
    results = tmp_path / "results.zip"
    results.write_bytes(inputs)

    submitted = mai(
        "submit",
        "validation",
        "mai-live/image-denoising",
        str(results),
        "--method-name",
        "Identity",
        "--wait",
        "--json",
    )
    assert submitted.returncode == 0, submitted.stderr
    body = submitted.json()
    assert body["status"] == "done"
    assert body["scores"]["psnr"] == pytest.approx(expected_psnr, abs=1e-6)
    stored = Submission.objects.get(public_id=body["id"])
    assert stored.status == "done" and stored.team.name == "Command Liners"
    assert stored.scores == body["scores"]
    # The live status went to stderr while it waited; stdout held only the JSON.
    assert f"Submission {body['id']}: Scored" in submitted.stderr.splitlines()

    # The leaderboard as a person reads it: the team's row shows the PSNR to the track's precision.
    board = mai("leaderboard", "mai-live/image-denoising")
    assert board.returncode == 0, board.stderr
    row = re.split(r"\s{2,}", html.line_with(board.stdout, "Command Liners"))
    assert row[:3] == ["1", "Command Liners", f"{expected_psnr:.2f}"]  # rank, team, PSNR ↑
    assert row[4] == "Identity"  # after SSIM: the method

    # A file over the track's limit is refused from its announced size, with the server's message.
    denoising.max_upload_mb = 1
    denoising.save(update_fields=["max_upload_mb"])
    big = tmp_path / "big.zip"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    too_big = mai("submit", "validation", "mai-live/image-denoising", str(big))
    assert too_big.returncode == 1
    assert too_big.stderr.splitlines()[-1].startswith(
        "Error: The upload is 3 MB; at most 1 MB is accepted here."
    )
    assert Submission.objects.filter(team=stored.team).count() == 1

    # The tokens page now says when the token was last used.
    client.force_login(user)
    assert html.text(client.get("/account/tokens/"), data_testid="token-last-used") != "Never"


def test_runtime_job_waits_and_prints_json(
    live_server, registered, tflite_models, make_user, token_from_page, mai
):
    user = make_user(email="runner@uni.example")
    secret, _ = token_from_page(user, scope="submit")
    env = {"MAI_URL": live_server.url, "MAI_TOKEN": secret}  # no config file: the environment is enough

    devices = mai("devices", "--json", env=env)
    assert devices.returncode == 0, devices.stderr
    host_cpu = next(d for d in devices.json() if d["slug"] == "host-cpu")
    assert "cpu" in host_cpu["accelerators"]

    run = mai(
        "runtime",
        str(tflite_models["conv_dynamic"]),
        "--device",
        "host-cpu",
        "--accelerator",
        "cpu",
        "--shape",
        "1x64x64x3",
        "--runs",
        "5",
        "--wait",
        "--json",
        env=env,
    )
    assert run.returncode == 0, run.stderr
    body = run.json()
    job = RuntimeJob.objects.get(uid=body["uid"])
    assert job.owner == user and job.state == "done"
    assert body["state"] == "done"
    assert body["input_shape"] == "1×64×64×3"  # the free dimensions ran at the shape asked for
    assert body["median_ms"] == job.median_ms and job.median_ms > 0
    assert body["runs"] == 5
    assert f"Job {body['uid']}: done" in run.stderr.splitlines()

    listed = mai("jobs", "--json", env=env)
    assert [j["uid"] for j in listed.json()] == [body["uid"]]


def test_final_model_and_fact_sheet_measured_while_the_command_waits(
    live_server,
    celery_worker,
    registered,
    challenge,
    make_user,
    token_from_page,
    mai,
    tflite_models,
    tmp_path,
):
    user = make_user(email="final@uni.example", full_name="Fin Al")
    make_team(challenge, "Final Liners", user)
    rng = np.random.default_rng(3)
    inputs = {f"{i:04d}": rng.integers(0, 256, (32, 32, 3)).astype(np.uint8) for i in range(2)}
    outputs = reference_outputs(tflite_models["conv_float"], inputs)
    hidden_data(
        challenge,
        inputs=inputs,
        truth={k: np.clip(np.round(v), 0, 255).astype(np.uint8) for k, v in outputs.items()},
    )
    sheet = tmp_path / "factsheet.json"
    sheet.write_text(
        json.dumps(
            {
                "team_name": "Final Liners",
                "contact_name": "Fin Al",
                "contact_email": "final@uni.example",
                "method_title": "Two convolutions",
                "method_description": "A 3×3 convolution, ReLU, another 3×3 convolution.",
                "architecture_training": "Adam, one epoch.",
                "training_data_hardware": "Random images; a laptop.",
                "members": [
                    {"name": "Fin Al", "affiliation": "Uni of Examples", "email": "final@uni.example"}
                ],
            }
        )
    )
    env = {"MAI_URL": live_server.url, "MAI_TOKEN": token_from_page(user)[0]}

    run = mai(
        "submit",
        "final",
        "mai-test/isp",
        str(tflite_models["conv_float"]),
        "--dynamic",
        str(tflite_models["conv_dynamic"]),
        "--factsheet",
        str(sheet),
        "--method-name",
        "Two convolutions",
        "--wait",
        "--json",
        env=env,
    )
    assert run.returncode == 0, run.stderr
    body = run.json()
    stored = ModelSubmission.objects.get(public_id=body["public_id"])
    assert (stored.status, stored.fidelity_status, stored.runtime_status) == ("done", "done", "done")
    assert (body["status"], body["fidelity_status"], body["runtime_status"]) == ("done", "done", "done")
    # The preliminary results are not released yet: the team's numbers stay hidden, here too.
    assert body["results"] is None and stored.runtime_ms > 0 and "psnr" in stored.metrics
    assert FactSheet.objects.get(team__name="Final Liners").method_title == "Two convolutions"
    assert "Fact sheet saved." in run.stderr.splitlines()

    listed = mai("submissions", "mai-test/isp", "--final", "--json", env=env)
    assert [s["public_id"] for s in listed.json()] == [body["public_id"]]
    board = mai("leaderboard", "mai-test/isp", "--final", env=env)
    assert board.returncode == 1
    assert board.stderr.splitlines()[0] == "Error: The final results are not released yet."


def test_author_submits_a_paper_and_waits_for_its_check_then_the_chair_exports_it(
    live_server, celery_worker, edition, author, chair, token_from_page, mai, tmp_path
):
    pdf = tmp_path / "tiny-nets.pdf"
    pdf.write_bytes(pdf_factory.paper_pdf(title="Tiny Nets on Phones"))
    topic = edition.topics.get(name="Quantization")
    env = {"MAI_URL": live_server.url, "MAI_TOKEN": token_from_page(author, scope="submit")[0]}
    listed = mai("topics", "mai-test", "--json", env=env)
    assert [t["name"] for t in listed.json()] == ["Efficient models", "Image enhancement", "Quantization"]

    def submit(*topics: str):
        return mai(
            "paper",
            "submit",
            "--workshop",
            "mai-test",
            "--kind",
            "challenge",
            "--challenge",
            "isp",
            "--title",
            "Tiny Nets on Phones",
            "--abstract",
            "Small networks, measured on real phones.",
            *[arg for t in topics for arg in ("--topic", t)],
            "--author",
            "Alex Author <alex@mobile.example>, Institute of Mobile Vision",
            "--author",
            "Bo Coauthor <bo@lab.example>, Lab of Examples",
            "--pdf",
            str(pdf),
            "--wait",
            "--json",
            env=env,
        )

    # A topic is named as the call lists it, or by a part naming one topic only; others are refused
    # before anything is uploaded, with the edition's topics.
    unknown = submit("Quantisation")
    assert unknown.returncode == 2 and not Paper.objects.exists()
    assert " ".join(unknown.stderr.split()).endswith(
        "Error: Invalid value for --topic: 'Quantisation' is not a topic of mai-test (its topics: "
        "Efficient models; Image enhancement; Quantization)."
    )
    submitted = submit("quantiz")
    assert submitted.returncode == 0, submitted.stderr
    body = submitted.json()
    stored = Paper.objects.get(workshop=edition, number=body["number"])
    assert stored.title == "Tiny Nets on Phones" and stored.status == "submitted"
    assert [a["email"] for a in body["authors"]] == ["alex@mobile.example", "bo@lab.example"]
    assert body["topics"] == [{"id": topic.pk, "name": "Quantization"}]
    assert (body["kind"], body["challenge"]) == ("challenge", edition.challenges.get(slug="isp").pk)
    # --wait returned once the worker had checked the PDF: the answer carries the verdict.
    version = stored.versions.get()
    assert body["versions"][0]["check_state"] == version.check_state == "passed"

    mine = mai("papers", env=env)
    row = re.split(r"\s{2,}", html.line_with(mine.stdout, "Tiny Nets on Phones"))
    assert row[:5] == [f"mai-test/{stored.number}", "Tiny Nets on Phones", "challenge", "submitted", "passed"]

    # Chairs export; the author may not.
    refused = mai("export", "papers", "mai-test", env=env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == "Error: Only the chairs of this edition export its data."
    chair_env = {"MAI_URL": live_server.url, "MAI_TOKEN": token_from_page(chair, scope="read")[0]}
    exported = mai("export", "papers", "mai-test", "--output", str(tmp_path / "papers.csv"), env=chair_env)
    assert exported.returncode == 0, exported.stderr
    with open(tmp_path / "papers.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["number"], r["title"]) for r in rows] == [(str(stored.number), "Tiny Nets on Phones")]


def test_an_operator_drains_and_resumes_a_device(make_user, token_from_page, mai, live_server, tflite_models):
    operator, visitor = make_user(email="ops@lab.example"), make_user(email="visitor@uni.example")
    host = DeviceHost.objects.create(name="lab-host")
    host.operators.add(operator)
    DeviceFactory(slug="lab-phone", device_host=host, last_heartbeat=timezone.now())  # no worker serves it
    env = {"MAI_URL": live_server.url, "MAI_TOKEN": token_from_page(operator)[0]}

    drained = mai("device", "drain", "lab-phone", "--json", env=env)
    assert drained.returncode == 0, drained.stderr
    # Nothing was queued: draining ends at once in "paused".
    assert drained.json()["operator_state"] == Device.objects.get(slug="lab-phone").operator_state == "paused"
    resumed = mai("device", "resume", "lab-phone", env=env)
    assert resumed.stdout.strip() == "lab-phone: active (takes jobs)."
    assert Device.objects.get(slug="lab-phone").operator_state == "active"

    other = mai("device", "pause", "lab-phone", env={**env, "MAI_TOKEN": token_from_page(visitor)[0]})
    assert other.returncode == 1
    assert Device.objects.get(slug="lab-phone").operator_state == "active"

    # A job no worker takes: --wait gives up at its timeout with exit status 4, the job stays queued.
    try:
        waited = mai(
            "runtime",
            str(tflite_models["conv_float"]),
            "-d",
            "lab-phone",
            "-a",
            "cpu",
            "--wait",
            "--timeout",
            "2",
            "--json",
            env=env,
        )
        assert waited.returncode == 4
        last = waited.json()["last"]
        assert waited.json()["error"].startswith(
            f"Job {last['uid']} did not finish within 2 s (last seen: queued)."
        )
        assert RuntimeJob.objects.get(uid=last["uid"]).state == "queued"
        # With a job queued, draining keeps the device taking it until its queue is empty.
        assert mai("device", "drain", "lab-phone", "--json", env=env).json()["operator_state"] == "draining"
    finally:
        purge_device_queue("lab-phone")


def test_revoked_and_read_only_tokens_are_refused_with_the_servers_message(
    live_server, make_user, token_from_page, revoke_on_page, mai, tflite_models
):
    user = make_user(email="revoked@uni.example")
    secret, token_id = token_from_page(user, name="old laptop", scope="submit")
    assert mai("login", "--url", live_server.url, "--token", secret).returncode == 0

    revoke_on_page(user, token_id)
    # What the server says to that token, asked directly over HTTP.
    answer = httpx.get(f"{live_server.url}/api/me/", headers={"Authorization": f"Token {secret}"})
    assert answer.status_code == 401
    message = answer.json()["detail"]

    refused = mai("whoami")
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == f"Error: {message}"
    assert refused.stdout == ""
    as_json = mai("whoami", "--json")
    assert as_json.returncode == 1
    assert as_json.json() == {"error": message, "status": 401}

    # `mai login` with the revoked token keeps nothing.
    before = mai.config_file.read_text()
    again = mai("login", "--url", live_server.url, "--token", secret)
    assert again.returncode == 1 and again.stderr.splitlines()[0] == f"Error: {message}"
    assert mai.config_file.read_text() == before

    # A read-only token may look but not upload.
    reader, _ = token_from_page(user, name="dashboard", scope="read")
    env = {"MAI_URL": live_server.url, "MAI_TOKEN": reader}
    assert mai("jobs", "--json", env=env).json() == []
    upload = mai(
        "runtime", str(tflite_models["conv_float"]), "-d", "host-cpu", "-a", "cpu", "--json", env=env
    )
    assert upload.returncode == 1
    refusal = httpx.post(
        f"{live_server.url}/api/evaluation/jobs/", headers={"Authorization": f"Token {reader}"}
    ).json()["detail"]
    assert upload.json() == {"error": refusal, "status": 403}
    assert RuntimeJob.objects.count() == 0
