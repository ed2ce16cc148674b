"""End to end in chromium: a team submits its model on the final-phase page and watches both
measurements finish live (real Celery worker, real device worker on host-cpu), fills in its fact sheet
and gives its code; the leaderboard is hidden until the organiser moves the release date; then the team
sees its rank."""

import os
import re

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.evaluation.workers import shared_device_worker
from tests.finalphase.conftest import (  # noqa: F401 - fixtures shared with the final-phase tests
    challenge,
    hidden_data,
    make_team,
    organiser,
    participant,
    reference_outputs,
    workshop,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def e2e_device_worker(live_server, django_db_setup, django_db_blocker):
    """The session's host-cpu device worker (shared: one worker per device queue)."""
    yield from shared_device_worker(live_server, django_db_blocker)


def shot(page, name):
    """Screenshots for a human look when FINAL_E2E_SCREENSHOTS names a folder."""
    folder = os.environ.get("FINAL_E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def log_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")


def test_team_submits_fills_factsheet_and_sees_its_rank_after_release(  # noqa: F811 - fixtures imported above
    live_server,
    page,
    browser,
    challenge,
    organiser,
    participant,
    password,
    tflite_models,  # noqa: F811
    celery_worker,
    e2e_device_worker,
):
    from evaluation.models import Device

    wait_for(lambda: Device.objects.filter(slug="host-cpu").exists(), timeout=30)
    make_team(challenge, "Team Alpha", participant)
    rng = np.random.default_rng(11)
    inputs = {f"{i:04d}": rng.integers(0, 256, (32, 32, 3)).astype(np.uint8) for i in range(3)}
    outputs = reference_outputs(tflite_models["conv_float"], inputs)
    hidden_data(
        challenge,
        inputs=inputs,
        truth={
            k: np.clip(np.round(v + rng.normal(0, 3, v.shape)), 0, 255).astype(np.uint8)
            for k, v in outputs.items()
        },
    )
    base = live_server.url
    final = f"{base}/{challenge.workshop.slug}/challenges/{challenge.slug}/final/"

    # The team submits its model and watches both measurements finish without reloading.
    log_in(page, base, participant.email, password)
    page.goto(final)
    assert "Fact sheet: missing" in page.get_by_test_id("ranking-requirements").inner_text()
    page.get_by_label("model.tflite").set_input_files(str(tflite_models["conv_float"]))
    page.get_by_label("Method name").fill("Tiny UNet")
    page.get_by_role("button", name="Submit model").click()
    page.wait_for_url(re.compile(r".*/final/submissions/[0-9a-f-]+/$"))
    assert "Model accepted" in page.inner_text("main")
    page.wait_for_selector("[data-testid=final-status][data-status=done]", timeout=90_000)
    assert "3 of 3 test inputs" in page.get_by_test_id("fidelity").inner_text()
    assert "Done" in page.get_by_test_id("runtime").inner_text()
    assert (
        "hidden until the preliminary results are released"
        in page.get_by_test_id("final-status").inner_text()
    )
    shot(page, "submission")

    # The fact sheet, pre-filled with the team and its members.
    page.goto(final + "factsheet/")
    assert page.get_by_label("Team name").input_value() == "Team Alpha"
    assert page.locator("#id_members-0-name").input_value() == "Ada Lovelace"
    assert page.locator("#id_members-0-affiliation").input_value() == "ETH Zürich"
    shot(page, "factsheet")
    page.get_by_role(
        "button", name="Save fact sheet"
    ).click()  # required fields missing: the browser blocks it
    assert page.url.endswith("/factsheet/")
    page.get_by_label("Method title").fill("Tiny UNet for RAW-to-RGB")
    page.get_by_label("Method description").fill("A four-level U-Net with pixel shuffle.")
    page.get_by_label("Architecture and training details").fill("Adam, 1e-4, 100 epochs, L1 + SSIM loss.")
    page.get_by_label("Training data and hardware").fill("Zurich RAW to RGB; one RTX 3090.")
    page.get_by_role("button", name="Save fact sheet").click()
    page.wait_for_url(final)
    assert "Fact sheet saved." in page.inner_text("main")
    page.goto(final + "code/")
    page.get_by_label("Or a repository URL").fill("https://github.com/team-alpha/tiny-unet")
    page.get_by_role("button", name="Save code").click()
    page.wait_for_url(final)
    requirements = page.get_by_test_id("ranking-requirements").inner_text()
    assert "Fact sheet: submitted" in requirements and "Code: submitted" in requirements
    shot(page, "home")

    # Hidden from the team until the release date.
    page.goto(final + "leaderboard/")
    assert "not public yet" in page.get_by_test_id("leaderboard-hidden").inner_text()

    # The organiser moves the release date to now.
    context = browser.new_context()
    org = context.new_page()
    log_in(org, base, organiser.email, password)
    org.goto(final + "settings/")
    org.get_by_role("button", name="Release results now").click()
    # An irreversible mass action: a confirmation page with the counts first.
    org.get_by_test_id("release-confirm").click()
    assert "Participants see the final leaderboard from" in org.inner_text("main")
    shot(org, "settings")
    org.goto(final + "leaderboard/")
    assert "Team Alpha" in org.get_by_test_id("final-leaderboard").inner_text()
    context.close()

    # The team sees its rank, its numbers and the plot, and can start its challenge paper.
    page.goto(final + "leaderboard/")
    assert "Your team Team Alpha: rank 1 of 1" in page.get_by_test_id("own-rank").inner_text()
    row = page.get_by_role("row", name=re.compile(r"Team Alpha"))
    assert re.search(r"\b\d\d\.\d\d\b", row.inner_text())  # PSNR with two decimals
    assert page.get_by_test_id("plot").locator("svg circle").count() >= 1
    href = page.get_by_test_id("paper-link").get_attribute("href")
    assert href == (
        f"/{challenge.workshop.slug}/papers/submit/?kind=challenge&challenge={challenge.pk}&team=Team+Alpha"
    )
    shot(page, "leaderboard")
