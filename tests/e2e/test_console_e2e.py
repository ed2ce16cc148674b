"""End to end in chromium: a chair runs a new edition without the admin. They clone MAI 2021 into
"MAI 2027" with every date shifted, move the paper deadline to 5pm Pacific, create a track whose model
contract is read from a reference model (a real .tflite made by TensorFlow), upload its validation
ground truth (first the wrong one) and open the validation phase; a participant registers, makes a
team and submits results, which a real Celery worker scores: failed against the wrong ground truth, the
organiser replaces it and has the failed submission scored again, done. On a phone the timeline scrolls
in its box. Every request of both browsers is recorded: none went to /admin/."""

import datetime as dt
import re
import zoneinfo

import pytest

from challenges import demo_data
from challenges.models import Challenge, Submission
from conference.models import ImportantDate, Membership, Workshop
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
OFFSET_DAYS = 2184  # 312 weeks: MAI 2021's dates on the same weekdays of 2027


def _seed_mai_2021():
    from challenges.finalphase.seed import seed_demo as seed_final
    from challenges.seed import seed_demo as seed_challenges
    from conference.seed import seed_demo as seed_conference

    seed_conference()
    seed_challenges()
    seed_final()


def _log_in(page, base_url, email, password, next_path):
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base_url}{next_path}")


def test_chair_clones_an_edition_and_opens_a_track_a_participant_submits_to(
    live_server, browser, celery_worker, make_user, password, tflite_models, tmp_path
):
    _seed_mai_2021()
    chair = make_user(email="chair2027@mai.example", full_name="Chris Chair")
    MembershipFactory(workshop=Workshop.objects.get(slug="mai-2021"), user=chair, role=Membership.Role.CHAIR)
    participant = make_user(email="solver2027@uni.example", full_name="Sol Ver")
    base = live_server.url
    visited: list[str] = []

    chair_context = browser.new_context()
    page = chair_context.new_page()
    page.on("request", lambda request: visited.append(request.url))
    _log_in(page, base, chair.email, password, "/console/clone/")

    # Clone MAI 2021 into MAI 2027, every date 312 weeks later; the confirmation page shows counts.
    page.get_by_label("Edition to clone").select_option(label="MAI 2021")
    page.get_by_label("New name").fill("Mobile AI Workshop 2027")
    page.get_by_label("New short name").fill("MAI 2027")
    page.get_by_label("New address (slug)").fill("mai-2027")
    page.get_by_label("Shift every date by (days)").fill(str(OFFSET_DAYS))
    page.get_by_role("button", name="Next: check what will be copied").click()
    assert page.locator("#clone-tracks").inner_text() == "6"
    page.locator("#clone-confirm").click()
    page.wait_for_url(f"{base}/mai-2027/manage/")
    mai2027 = Workshop.objects.get(slug="mai-2027")
    old = ImportantDate.objects.get(workshop__slug="mai-2021", kind="paper_deadline").at
    deadline = ImportantDate.objects.get(workshop=mai2027, kind="paper_deadline")
    # Shifted on the workshop's wall clock: 5pm Pacific stays 5pm Pacific across daylight saving time.
    wall = old.astimezone(PACIFIC).replace(tzinfo=None) + dt.timedelta(days=OFFSET_DAYS)
    assert deadline.at.astimezone(PACIFIC).replace(tzinfo=None) == wall

    # Move the paper deadline to 5pm Pacific on the day after (a published date: confirmed, logged).
    day = deadline.at.astimezone(PACIFIC).date() + dt.timedelta(days=1)
    page.goto(f"{base}/mai-2027/manage/dates/")
    row = page.locator('fieldset[data-kind="paper_deadline"]')
    row.get_by_label("Date and time").fill(f"{day.isoformat()}T17:00")
    page.locator("#dates-save").click()
    assert page.locator("#dates-moved").inner_text() == "1"
    page.locator("#dates-confirm").click()
    page.wait_for_url(f"{base}/mai-2027/manage/dates/")
    deadline.refresh_from_db()
    assert deadline.at == dt.datetime(day.year, day.month, day.day, 17, 0, tzinfo=PACIFIC)
    assert "5pm Pacific Time" in page.locator(f'[data-testid="date-saved-{deadline.pk}"]').inner_text()

    # A new track; its contract is read from a reference model in the sandbox, then saved.
    page.goto(f"{base}/mai-2027/challenges/new/")
    page.get_by_label("Title").fill("Tiny Denoising")
    page.get_by_label("Task in one line").fill("Denoise 32×48 images on the host CPU.")
    page.get_by_role("button", name="Create the track").click()
    page.wait_for_url(f"{base}/mai-2027/challenges/tiny-denoising/manage/track/")
    # The score formula's live preview (htmx) explains a formula it cannot compute as it is typed.
    page.get_by_label("Score formula (computed)").fill("2 ** (2 * psnr) / (C * runtime)")
    error = page.locator('[data-testid="formula-error"]')
    error.wait_for()
    assert error.inner_text().startswith("Unknown name “runtime”; use one of:")
    page.get_by_role("link", name="Model contract").click()
    page.get_by_label("Reference model (.tflite)").set_input_files(str(tflite_models["conv_float"]))
    page.get_by_role("button", name="Read its contract").click()
    assert "filled from the model" in page.locator('[data-testid="reference-notes"]').inner_text()
    assert page.get_by_label("Input shape").input_value() == "1x32x32x3"
    page.get_by_role("button", name="Save the contract").click()
    assert "The model contract was saved." in page.inner_text("main")
    track = Challenge.objects.get(workshop=mai2027, slug="tiny-denoising")
    assert track.contract["input_shape"] == [1, 32, 32, 3] and track.contract["output_shape"] == [
        1,
        32,
        32,
        3,
    ]

    # Validation data: the inputs and the hidden ground truth, streamed to private storage. By mistake
    # the organiser uploads the ground truth of half-size images first.
    data = demo_data.image_track(7, in_size=(32, 48), out_size=(32, 48), kind="denoise")
    wrong = demo_data.image_track(7, in_size=(32, 48), out_size=(16, 24), kind="denoise")

    def store(split, label, content):
        (tmp_path / f"{split}.zip").write_bytes(content)
        page.get_by_role("link", name="Data files").click()
        page.get_by_label("Split").select_option(split)
        page.get_by_label("Title").fill(label)
        page.get_by_label("File (stored privately)").set_input_files(str(tmp_path / f"{split}.zip"))
        page.get_by_role("button", name="Store the data file").click()
        assert "The data file was stored." in page.inner_text("main")

    store("validation_input", "Validation inputs", data["validation_input"][1])
    store("validation_gt", "Validation ground truth", wrong["validation_gt"][1])

    # Open the validation phase: milestones typed in Pacific time; the timeline marks "now".
    page.get_by_role("link", name="Milestones").click()
    today = dt.datetime.now(PACIFIC).date()

    def at(days: int) -> str:
        return f"{(today + dt.timedelta(days=days)).isoformat()}T17:00"

    for label, days in [
        ("Website online", -3),
        ("Train/validation data released", -2),
        ("Validation server online", -1),
        ("Final test data released", 20),
        ("Final models/results submission deadline", 30),
    ]:
        page.get_by_label(label).fill(at(days))
    page.get_by_role("button", name="Save the milestones").click()
    assert "The validation phase accepts results." in page.locator("#open-now").inner_text()
    assert page.locator("#timeline-now").count() == 1

    # A participant registers, makes a team and submits results; the worker scores them.
    participant_context = browser.new_context()
    other = participant_context.new_page()
    other.on("request", lambda request: visited.append(request.url))
    track_path = "/mai-2027/challenges/tiny-denoising/"
    _log_in(other, base, participant.email, password, track_path)
    other.get_by_label("I accept the terms of participation").check()
    other.get_by_role("button", name="Register").click()
    assert "You are registered for Tiny Denoising." in other.inner_text("main")
    other.get_by_role("link", name="Your team").click()
    other.get_by_label("Team name").fill("Quiet Pixels")
    other.get_by_role("button", name="Create team").click()
    results = tmp_path / "results.zip"
    results.write_bytes(demo_data.results_for("images_zip", data["validation_gt"][1], noise=3.0))
    other.goto(base + track_path + "submissions/")
    other.get_by_label("Result file").set_input_files(str(results))
    other.get_by_role("button", name="Submit results").click()
    other.wait_for_url(re.compile(r".*/submissions/[0-9a-f-]+/$"))
    submission_url = other.url
    # Scored by the worker against the wrong ground truth: failed, with the scorer's reason.
    other.locator("#status", has_text="Failed").wait_for(timeout=60_000)

    # The organiser's dashboard counts it and shows why it failed; the ground truth is replaced (its
    # deletion confirmed) and the failed submission scored again, without the admin.
    page.goto(base + track_path + "manage/")
    assert page.locator("#per-day-chart g.day").last.get_attribute("data-count") == "1"
    failure = page.locator("#failures tbody tr").first
    assert failure.locator("td").nth(1).inner_text() == "Quiet Pixels"
    assert failure.locator("td").nth(3).inner_text() == "“val_0001.png” is 48×32 pixels; expected 24×16."
    page.get_by_role("link", name="Data files").click()
    page.locator("#data-files tr", has_text="Validation ground truth").get_by_role(
        "link", name="Delete…"
    ).click()
    page.get_by_role("button", name="Delete the file").click()
    assert "“Validation ground truth” was deleted." in page.inner_text("main")
    store("validation_gt", "Validation ground truth", data["validation_gt"][1])
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Score the failed validation submissions again").click()
    assert "1 failed validation submission(s) queued to be scored again." in page.inner_text("main")
    other.goto(submission_url)
    other.locator("#status", has_text="Done").wait_for(timeout=60_000)
    assert Submission.objects.get(challenge=track).status == "done"

    # On a phone the timeline keeps readable labels: the picture scrolls sideways inside its box, the
    # page itself does not, and "now" is in view.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + track_path + "manage/milestones/")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    assert page.locator("#timeline-svg").bounding_box()["width"] >= 720
    box, now = page.locator(".chart-scroll").bounding_box(), page.locator("#timeline-now line").bounding_box()
    assert box["x"] <= now["x"] <= box["x"] + box["width"]
    assert visited and not [url for url in visited if "/admin/" in url]
    chair_context.close()
    participant_context.close()
