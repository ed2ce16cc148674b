"""In chromium: "Check my runtime" offers exactly the accelerators of the device chosen, and the select
follows the device as the participant changes it (static/js/runtime_form.js)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_accelerator_select_follows_the_chosen_device(live_server, page, make_user, password, device_host):
    from evaluation.runners.base import DeviceInfo
    from evaluation.runners.local import LocalRunner
    from evaluation.services import device_register

    host = device_register(host=device_host, info=LocalRunner().probe())
    # A phone as a device host registers it (no phone here: only its registration is simulated).
    phone = device_register(
        host=device_host,
        info=DeviceInfo(
            slug="pixel-test",
            name="Pixel Test Phone",
            platform="android",
            soc="Tensor G2",
            transport="adb",
            accelerators=["cpu", "gpu", "nnapi"],
        ),
    )
    make_user(email="select@uni.example")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("select@uni.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/evaluation/check-runtime/")

    accelerator = page.get_by_label("Accelerator")

    def offered():
        return accelerator.locator("option").evaluate_all("options => options.map(o => o.textContent)")

    page.get_by_label("Device").select_option(phone.slug)
    assert offered() == ["CPU", "GPU", "NNAPI"]
    accelerator.select_option("gpu")
    page.get_by_label("Device").select_option(host.slug)
    assert offered() == ["CPU", "CPU (XNNPACK)"]
    assert accelerator.input_value() == "cpu"
