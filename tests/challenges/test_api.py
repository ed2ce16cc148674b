"""The submissions API: same checks as the web form, team-scoped reads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from challenges import services
from challenges.demo_data import results_for
from challenges.models import Submission

from .conftest import ground_truth_bytes

pytestmark = pytest.mark.django_db


def test_submit_and_read_through_the_api(client, denoising, participant):
    user = participant(denoising, "API Team")
    client.force_login(user)
    base = "/api/challenges/mai-live/image-denoising/"
    info = client.get(base).json()
    assert info["phase"] == "validation" and info["team"] == "API Team" and info["left_today"] == 5
    assert info["contract"]["output_shape"] == [1, 32, 48, 3]
    data = results_for("images_zip", ground_truth_bytes(denoising))
    response = client.post(
        base + "submissions/", {"file": SimpleUploadedFile("r.zip", data), "method_name": "M"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["team"] == "API Team"
    services.submission_score(submission_id=Submission.objects.get().pk)
    detail = client.get(f"{base}submissions/{body['id']}/").json()
    assert detail["status"] == "done" and detail["scores"]["psnr"] > 25 and len(detail["per_file"]) == 3
    board = client.get(base + "leaderboard/").json()
    assert board[0]["team"] == "API Team" and board[0]["rank"] == 1
    bad = client.post(base + "submissions/", {"file": SimpleUploadedFile("r.zip", b"not a zip")})
    assert bad.status_code == 400 and "not a valid zip" in bad.json()["errors"][0]
    # Another team cannot read it.
    other = participant(denoising, "Other")
    client.force_login(other)
    assert client.get(f"{base}submissions/{body['id']}/").status_code == 404
    assert client.get(base + "submissions/").json() == []


def test_oversized_api_uploads_are_refused_before_and_while_reading(client, denoising, participant):
    denoising.max_upload_mb = 1
    denoising.save()
    client.force_login(participant(denoising, "Big Files"))
    base = "/api/challenges/mai-live/image-denoising/submissions/"
    header = client.post(base, {"file": SimpleUploadedFile("r.zip", b"x" * (3 * 1024 * 1024))})
    assert header.status_code == 413
    assert header.json()["errors"] == [
        "The upload is 3 MB; at most 1 MB is accepted here. Nothing was read or saved."
    ]
    stream = client.post(base, {"file": SimpleUploadedFile("r.zip", b"x" * (1536 * 1024))})
    assert stream.status_code == 413
    assert stream.json()["errors"] == [
        "The file “r.zip” is larger than 1 MB and was refused; nothing was saved."
    ]
    assert not Submission.objects.exists()
