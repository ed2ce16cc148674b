"""Device specs and the device-host config file: how an operator names and configures phones and boards."""

import pytest

from evaluation.runners import runner_from_spec
from evaluation.runners.hostconfig import device_settings, load_config


def test_spec_settings_merge_file_and_spec():
    config = {
        "adb": {
            "benchmark_model": "/opt/bm",
            "accelerators": ["cpu"],
            "R5CR10": {"slug": "exynos-2100", "big_cores": "80"},
        }
    }
    name, settings = device_settings("adb", "R5CR10?accelerators=cpu,gpu", config=config)
    assert name == "R5CR10"
    assert settings == {
        "benchmark_model": "/opt/bm",
        "accelerators": ["cpu", "gpu"],
        "slug": "exynos-2100",
        "big_cores": "80",
    }
    with pytest.raises(ValueError, match="benchmark_model"):
        runner_from_spec("adb:SERIAL")
    with pytest.raises(ValueError, match="USER@HOST"):
        runner_from_spec("ssh:10.0.0.7")
    runner = runner_from_spec("ssh:pi@10.0.0.7:2222?key=/k&accelerators=cpu,gpu&slug=pi4")
    assert (runner.host, runner.port, runner.username, runner.accelerators, runner.slug) == (
        "10.0.0.7",
        2222,
        "pi",
        ["cpu", "gpu"],
        "pi4",
    )


def test_config_file_is_read_and_checked(tmp_path, monkeypatch):
    config = tmp_path / "host.toml"
    config.write_text('[adb]\nbenchmark_model = "/opt/bm"\n[adb."S1"]\nslug = "phone-1"\nbogus = 1\n')
    monkeypatch.setenv("DEVICE_HOST_CONFIG", str(config))
    assert load_config()["adb"]["S1"]["slug"] == "phone-1"
    with pytest.raises(ValueError, match="unknown adb device settings \\['bogus'\\]"):
        runner_from_spec("adb:S1")
    runner = runner_from_spec("adb:S2?accelerators=cpu,gpu")
    assert (runner.serial, runner.accelerators, str(runner.benchmark_model)) == (
        "S2",
        ["cpu", "gpu"],
        "/opt/bm",
    )
    with pytest.raises(ValueError, match="unknown accelerators"):
        runner_from_spec("adb:S2?accelerators=cpu,tpu")
    config.write_text("[adb\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config()
