"""End to end in chromium at a phone's width (390 px): a participant reads a job measured by a real device
worker on this host's CPU (the profile's bar chart, the node table sorted by a click on its headings, the
mean with its 95% confidence interval), and an operator pauses a device in the device lab through the
confirmation dialog. Neither page scrolls sideways."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation import services
from evaluation.models import Device, DeviceHost, RuntimeJob
from tests.conftest import wait_for
from tests.evaluation.conftest import TEST_HOST, device_worker, registered  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "")  # a folder to keep screenshots in, for a person


def _sign_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, name), full_page=True)


def test_job_page_and_device_lab_at_phone_width(
    live_server,
    browser,
    make_user,
    password,
    registered,
    tflite_models,  # noqa: F811
):
    owner = make_user(email="depth@uni.example")
    job = services.runtime_job_create(
        owner=owner,
        model_file=SimpleUploadedFile("conv.tflite", tflite_models["conv_dynamic"].read_bytes()),
        device="host-cpu",
        accelerator="xnnpack",
        options={"input_shape": "1x128x128x3", "timed_runs": 10, "repetitions": 2},
    )
    job = wait_for(lambda: RuntimeJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).first(), 90)
    assert job.state == "done", job.error_message

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    _sign_in(page, live_server, "depth@uni.example", password)
    page.goto(f"{live_server.url}{job.get_absolute_url()}")

    # The chart: one bar per operator type, each with its time.
    chart = page.get_by_test_id("profile-chart")
    assert chart.is_visible()
    assert chart.locator("g").evaluate_all("gs => gs.map(g => g.dataset.operator)") == [
        "CONV_2D",
        "LOGISTIC",
        "MUL",
    ]
    chart_box = chart.bounding_box()
    assert chart_box["x"] >= 0 and chart_box["x"] + chart_box["width"] <= PHONE["width"]

    # The mean with its interval, as the participant reads it.
    mean_ci = page.get_by_test_id("mean-ci").inner_text()
    mean = float(mean_ci.split()[0])
    low, high = (float(v) for v in mean_ci.split("(")[1].rstrip(" ms)").split(" – "))
    assert low < mean < high

    # The node table sorts by time on a click, ascending then descending.
    table = page.get_by_test_id("profile-nodes")

    def times() -> list[float]:
        return [float(t) for t in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]

    def operators() -> list[str]:
        return [t.split(" ×")[0] for t in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]

    assert len(times()) == 4
    heading = table.get_by_role("columnheader", name="Time (ms)")
    heading.click()
    assert heading.get_attribute("aria-sort") == "ascending" and times() == sorted(times())
    heading.click()
    assert heading.get_attribute("aria-sort") == "descending" and times() == sorted(times(), reverse=True)
    table.get_by_role("columnheader", name="Operator").click()
    assert operators() == ["CONV_2D", "CONV_2D", "LOGISTIC", "MUL"]
    _shot(page, "job_page_390.png")
    _no_sideways_scroll(page)

    # The device lab: the participant reads it; an operator of the host pauses the device.
    page.goto(f"{live_server.url}/evaluation/lab/")
    device = page.locator("[data-device='host-cpu']")
    assert device.get_by_test_id("operator-state").inner_text() == "Active"
    assert device.get_by_test_id("operator-actions").count() == 0  # not an operator: nothing to press
    _no_sideways_scroll(page)
    context.close()

    operator = make_user(email="operator@lab.example")
    DeviceHost.objects.get(name=TEST_HOST).operators.add(operator)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    _sign_in(page, live_server, "operator@lab.example", password)
    page.goto(f"{live_server.url}/evaluation/lab/")
    device = page.locator("[data-device='host-cpu']")
    _no_sideways_scroll(page)
    _shot(page, "device_lab_390.png")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    # Cancelling the confirmation changes nothing…
    page.once("dialog", lambda d: answer(d, False))
    device.get_by_role("button", name="Pause").click()
    name = Device.objects.get(slug="host-cpu").name
    assert asked == [f"Pause {name}? It takes no new job until you resume it; jobs in its queue wait."]
    assert device.get_by_test_id("operator-state").inner_text() == "Active"
    assert Device.objects.get(slug="host-cpu").operator_state == "active"
    # …confirming pauses the device, and the page says so.
    page.once("dialog", lambda d: answer(d, True))
    device.get_by_role("button", name="Pause").click()
    page.wait_for_load_state()
    device = page.locator("[data-device='host-cpu']")
    assert device.get_by_test_id("operator-state").inner_text() == "Paused"
    assert page.locator(".messages").inner_text() == f"{name} is now paused."
    assert device.get_by_role("button", name="Resume").is_visible()
    assert Device.objects.get(slug="host-cpu").operator_state == "paused"
    _no_sideways_scroll(page)
    _shot(page, "device_lab_paused_390.png")
    context.close()
