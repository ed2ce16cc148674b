"""End to end in chromium with a real Celery worker: register for a challenge, make a team, download the
validation inputs, upload results, watch the score arrive without reloading and find it on the
leaderboard."""

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from challenges import metrics
from challenges.models import Challenge, Submission

pytestmark = pytest.mark.django_db(transaction=True)


def _images(data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: np.asarray(Image.open(io.BytesIO(archive.read(n)))) for n in archive.namelist()}


def test_register_team_download_submit_and_see_score(
    live_server, page, seeded, celery_worker, make_user, password, tmp_path
):
    user = make_user(email="solver@uni.example", full_name="Sol Ver")
    challenge = Challenge.objects.get(workshop__slug="mai-live", slug="image-denoising")
    base = f"{live_server.url}/mai-live/challenges/image-denoising/"

    page.goto(f"{live_server.url}/accounts/login/?next=/mai-live/challenges/image-denoising/")
    page.get_by_label("Email").fill(user.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base)

    # The timeline shows "now" and a running countdown.
    assert page.locator("#now-marker").is_visible()
    countdown = page.locator("#countdown")
    assert re.match(r"\d+d \d+h \d+m \d+s", countdown.inner_text())

    page.get_by_label("I accept the terms of participation").check()
    page.get_by_role("button", name="Register").click()
    assert "You are registered for Image Denoising." in page.inner_text("main")

    page.get_by_role("link", name="Your team").click()
    page.get_by_label("Team name").fill("Noise Busters")
    page.get_by_role("button", name="Create team").click()
    assert "Your team was created." in page.inner_text("main")
    assert page.locator("#join-code").inner_text()

    page.goto(base)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Validation inputs").click()
    inputs_path = tmp_path / "inputs.zip"
    download_info.value.save_as(inputs_path)
    inputs = inputs_path.read_bytes()

    # Our "method" returns the noisy inputs unchanged; its PSNR against the hidden clean images is known.
    gt = challenge.data_files.get(split="validation_gt")
    with gt.file.open("rb") as f:
        truth = _images(f.read())
    noisy = _images(inputs)
    assert set(noisy) == set(truth)
    expected = np.mean([metrics.psnr(truth[n], noisy[n]) for n in truth])
    results = tmp_path / "results.zip"
    results.write_bytes(inputs)

    page.goto(base + "submissions/")
    assert "5 of 5 left today" in page.inner_text("#limits")
    page.get_by_label("Result file").set_input_files(str(results))
    page.get_by_label("Method name (optional)").fill("Identity")
    page.get_by_role("button", name="Submit results").click()
    page.wait_for_url(re.compile(r".*/submissions/[0-9a-f-]+/$"))
    page.evaluate("window.__sameDocument = true")
    # The status updates in place (htmx polling) until the worker has scored it: no reload happens.
    page.locator("#status", has_text="Done").wait_for(timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True
    overall = page.locator("#scores tfoot td").first.inner_text()
    assert overall == f"{expected:.2f}"
    assert Submission.objects.get(challenge=challenge).status == "done"
    assert page.locator("#scores tbody tr").count() == 3

    page.goto(base + "leaderboard/")
    row = page.get_by_role("row", name=re.compile("Noise Busters"))
    cells = row.locator("td").all_inner_texts()  # rank, team, PSNR, SSIM, method, submitted
    assert cells[1:3] == ["Noise Busters", f"{expected:.2f}"] and cells[4] == "Identity"
    assert "higher is better" in page.inner_html("#leaderboard thead")
    # On a phone the leaderboard, wider than the screen, scrolls inside its own box; the page does not.
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    board = page.locator("#leaderboard")
    assert board.evaluate("t => t.scrollWidth > t.clientWidth && getComputedStyle(t).overflowX === 'auto'")
    page.set_viewport_size(size)

    page.goto(base + "submissions/")
    assert "4 of 5 left today" in page.inner_text("#limits")
