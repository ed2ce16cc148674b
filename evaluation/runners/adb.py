"""The `adb` runner: an Android device reached through a real adb server with adbutils, measured by
TFLite's `benchmark_model` binary on the device.

The operator gives each device its serial (USB serial, or `host:port` for `adb connect` devices), the
accelerators to offer and the path of the `benchmark_model` binary for the device's ABI (we never
download it). The runner then:
- `probe()`: reads the identity (ro.product.model, ro.soc.manufacturer/ro.soc.model or
  ro.board.platform, Android version, ABI), pushes `benchmark_model` once (skipped when the device
  already holds the same bytes, by SHA-256) and checks that it runs there;
- `run(model, options)`: checks free space, pushes the model to a per-job folder under
  /data/local/tmp, runs `benchmark_model` with the flags for the accelerator and options, optionally
  pinned to the big cores with `taskset`, under the device's own `timeout` (so a hang is killed on the
  device, not just abandoned by the host), parses the output (`evaluation.benchmark_output`) and
  deletes the job's files.

Faults map onto the runner interface: the device gone (unplugged, adb server restarted, TCP link lost)
or out of space → `DeviceUnavailable` (the job is retried); the time limit → `JobTimeout`; a model the
tool or its delegate rejects → `ModelError` with the tool's own error lines. The adb server port comes
from `ANDROID_ADB_SERVER_PORT` (adb's own convention) unless given; a server that is down is started.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from evaluation import sysfs
from evaluation.benchmark_output import parse_benchmark_output
from evaluation.runners.base import (
    Accelerator,
    DeviceInfo,
    DeviceUnavailable,
    JobTimeout,
    ModelError,
    RunOptions,
    RunResult,
    file_sha256,
    reproducibility_record,
)
from evaluation.runners.hostconfig import check_device_settings, device_settings
from evaluation.runners.remote_sensors import (
    DeviceSensors,
    combine_repetitions,
    repetition_entry,
    sampler_script,
)

logger = logging.getLogger(__name__)

DEVICE_TMP = "/data/local/tmp"
EXIT_MARK = "MAI-EXIT:"
HOST_MARGIN_S = 30.0  # the host waits this much longer than the device's own `timeout`
SPACE_MARGIN_BYTES = 16 * 1024 * 1024

# Flags per accelerator (tensorflow/lite/tools/delegates/*_delegate_provider.cc).
ACCELERATOR_FLAGS = {
    Accelerator.CPU: ["--use_xnnpack=false"],
    Accelerator.XNNPACK: ["--use_xnnpack=true"],
    Accelerator.GPU: ["--use_gpu=true"],
    Accelerator.NNAPI: ["--use_nnapi=true"],
    Accelerator.HEXAGON: ["--use_hexagon=true"],
}


def adb_server_port() -> int:
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))


def adb_binary() -> str:
    found = shutil.which("adb")
    if found:
        return found
    import adbutils  # only device hosts with phones need it: imported when a phone is used

    return adbutils.adb_path()


def ensure_adb_server(
    host: str = "127.0.0.1", port: int | None = None, *, adb_path: str | None = None
) -> None:
    """Starts the adb server on `port` when nothing listens there (after a crash or `adb kill-server`)."""
    port = port or adb_server_port()
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        pass
    if host not in ("127.0.0.1", "localhost"):
        raise DeviceUnavailable(f"the adb server at {host}:{port} is not running")
    logger.warning("adb server on port %s is down: starting it", port)
    subprocess.run(
        [adb_path or adb_binary(), "-P", str(port), "start-server"],
        timeout=30,
        capture_output=True,
        check=False,
    )


def list_adb_devices(host: str = "127.0.0.1", port: int | None = None) -> list[tuple[str, str]]:
    """(serial, state) of every device the adb server sees; state is `device`, `offline`, `unauthorized`…"""
    import adbutils  # only device hosts with phones need it: imported when a phone is used

    port = port or adb_server_port()
    ensure_adb_server(host, port)
    client = adbutils.AdbClient(host=host, port=port, socket_timeout=10)
    return [(info.serial, info.state) for info in client.list()]


def _parse_getprop(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\[([^\]]+)\]: \[(.*)\]\s*$", text, flags=re.M))


def _model_input_names(model_path: Path) -> list[str]:
    """Input tensor names of subgraph 0, read from the flatbuffer without running anything."""
    # LiteRT's generated schema is large: read only when a model's input names are needed.
    from ai_edge_litert import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAsModel(model_path.read_bytes(), 0)
        graph = model.Subgraphs(0)
        return [graph.Tensors(graph.Inputs(i)).Name().decode() for i in range(graph.InputsLength())]
    except Exception as exc:  # noqa: BLE001 - any corruption is the model's fault
        raise ModelError(f"could not read the model's input names: {exc}") from None


class AdbRunner:
    """One Android device behind an adb server (see the module docstring)."""

    transport = "adb"

    def __init__(
        self,
        serial: str,
        *,
        benchmark_model: Path | str,
        accelerators: list[str] | None = None,
        slug: str = "",
        name: str = "",
        tool_version: str = "",
        external_delegate_path: str = "",
        external_delegate_options: str = "",
        big_cores: str = "",
        adb_host: str = "127.0.0.1",
        adb_port: int | None = None,
        adb_path: str | None = None,
        work_root: str = f"{DEVICE_TMP}/mai",
        tcp: bool | None = None,
        sysfs_root: str = "",
    ):
        self.serial = serial
        # Where the device's /sys is read from (thermal zones, battery gauge): "" on a phone.
        self.sysfs_root = sysfs_root
        self.benchmark_model = Path(benchmark_model)
        self.accelerators = list(accelerators or [Accelerator.CPU, Accelerator.XNNPACK])
        self.slug, self.name, self.tool_version = slug, name, tool_version
        self.external_delegate_path = external_delegate_path
        self.external_delegate_options = external_delegate_options
        self.big_cores = big_cores  # a taskset hex mask; empty: found from cpufreq on the device
        self.adb_host, self.adb_port = adb_host, adb_port or adb_server_port()
        self.adb_path = adb_path or adb_binary()
        self.work_root = work_root.rstrip("/")
        self.tcp = (":" in serial) if tcp is None else tcp
        self.tool_path = f"{self.work_root}/bin/benchmark_model"
        self._tool_sha = ""
        self._tool_ready = False

    # --- connection
    def _client(self):
        import adbutils  # only device hosts with phones need it: imported when a phone is used

        ensure_adb_server(self.adb_host, self.adb_port, adb_path=self.adb_path)
        return adbutils.AdbClient(host=self.adb_host, port=self.adb_port, socket_timeout=15)

    def state(self) -> str:
        """`device` when usable; `offline`, `unauthorized`… as adb says; `missing` when not listed."""
        try:
            for info in self._client().list():
                if info.serial == self.serial:
                    return info.state
        except Exception:  # noqa: BLE001 - an adb server that cannot be reached: the device is not usable
            return "missing"
        return "missing"

    def available(self) -> bool:
        """Whether the device can take a job now (for the worker's heartbeat: an unplugged phone must
        show offline)."""
        return self.state() == "device"

    def _device(self, wait_s: float = 5.0):
        import adbutils  # only device hosts with phones need it: imported when a phone is used

        client = self._client()
        deadline = time.monotonic() + wait_s
        connected = False
        while True:
            try:
                states = {info.serial: info.state for info in client.list()}
            except adbutils.AdbError as exc:
                raise DeviceUnavailable(f"adb server error: {exc}") from None
            state = states.get(self.serial, "missing")
            if state == "device":
                return client.device(self.serial)
            if self.tcp and not connected and state in ("missing", "offline"):
                # `adb connect` answers with a message rather than an error when it fails.
                try:
                    client.connect(self.serial, timeout=5)
                except adbutils.AdbError as exc:
                    logger.info("adb connect %s: %s", self.serial, exc)
                connected = True
            if time.monotonic() > deadline:
                self._tool_ready = False
                raise DeviceUnavailable(f"device {self.serial} is not available (adb state: {state})")
            time.sleep(0.2)

    def _shell(self, device, command: str, timeout: float = 60) -> tuple[int, str]:
        """Runs `command` on the device; returns (exit status, stdout+stderr). DeviceUnavailable when the
        link breaks before the command ends."""
        import adbutils  # only device hosts with phones need it: imported when a phone is used

        try:
            raw = device.shell(f"{command}; echo {EXIT_MARK}$?", timeout=timeout, encoding=None)
        except adbutils.AdbTimeout:
            raise
        except (adbutils.AdbError, OSError) as exc:
            raise DeviceUnavailable(f"lost the device {self.serial} during a command: {exc}") from None
        text = raw.decode("utf-8", "replace")
        index = text.rfind(EXIT_MARK)
        if index < 0:
            raise DeviceUnavailable(
                f"lost the device {self.serial} during a command (no exit status)", log=text
            )
        return int(text[index + len(EXIT_MARK) :].strip() or 255), text[:index]

    # --- identity and tool
    def probe(self) -> DeviceInfo:
        device = self._device()
        _, text = self._shell(device, "getprop")
        props = _parse_getprop(text)
        model = props.get("ro.product.model", "") or self.serial
        manufacturer = props.get("ro.product.manufacturer", "")
        soc = " ".join(filter(None, [props.get("ro.soc.manufacturer", ""), props.get("ro.soc.model", "")]))
        soc = soc or props.get("ro.board.platform", "") or props.get("ro.hardware", "")
        self._ensure_tool(device)
        slug = self.slug or re.sub(r"[^a-z0-9]+", "-", f"{model}-{self.serial}".lower()).strip("-")
        return DeviceInfo(
            slug=slug,
            name=self.name or " ".join(filter(None, [manufacturer, model])),
            platform="android",
            soc=soc,
            transport=self.transport,
            accelerators=list(self.accelerators),
            details={
                "serial": self.serial,
                "model": model,
                "manufacturer": manufacturer,
                "android_version": props.get("ro.build.version.release", ""),
                "sdk": props.get("ro.build.version.sdk", ""),
                "abi": props.get("ro.product.cpu.abi", ""),
                "board_platform": props.get("ro.board.platform", ""),
                "benchmark_model": self.tool_path,
                "benchmark_model_sha256": self._tool_sha,
                "runtime_version": self.runtime_version,
            },
        )

    @property
    def runtime_version(self) -> str:
        return f"benchmark_model {self.tool_version or 'sha256:' + self._tool_sha[:12]}".strip()

    def _ensure_tool(self, device) -> None:
        """Pushes benchmark_model when the device lacks these exact bytes, then checks that it runs."""
        if self._tool_ready:
            return
        if not self.benchmark_model.is_file():
            raise DeviceUnavailable(
                f"benchmark_model binary not found on the device host: {self.benchmark_model}"
            )
        self._tool_sha = file_sha256(self.benchmark_model)
        _, out = self._shell(device, f"sha256sum {shlex.quote(self.tool_path)} 2>/dev/null")
        if not out.startswith(self._tool_sha):
            self._check_space(device, self.benchmark_model.stat().st_size)
            self._shell(device, f"mkdir -p {shlex.quote(self.work_root)}/bin")
            self._push(device, self.benchmark_model, self.tool_path, mode=0o755)
            self._shell(device, f"chmod 755 {shlex.quote(self.tool_path)}")
            _, out = self._shell(device, f"sha256sum {shlex.quote(self.tool_path)}")
            if not out.startswith(self._tool_sha):
                raise DeviceUnavailable(f"benchmark_model did not arrive intact on {self.serial}", log=out)
        status, out = self._shell(device, f"{shlex.quote(self.tool_path)} --help 2>&1", timeout=60)
        if "--graph" not in out:
            raise DeviceUnavailable(
                f"benchmark_model does not run on {self.serial} (exit status {status}): is it built for this "
                f"device's ABI?",
                log=out,
            )
        self._tool_ready = True

    def _free_bytes(self, device) -> int | None:
        _, out = self._shell(device, f"df -k {DEVICE_TMP}")
        for line in out.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 4 and fields[3].isdigit():
                return int(fields[3]) * 1024
        return None

    def _check_space(self, device, size: int) -> None:
        free = self._free_bytes(device)
        if free is not None and free < size + SPACE_MARGIN_BYTES:
            raise DeviceUnavailable(
                f"no space left on device {self.serial}: {free / 1e6:.1f} MB free in {DEVICE_TMP}, "
                f"{(size + SPACE_MARGIN_BYTES) / 1e6:.1f} MB needed"
            )

    def _push(self, device, local: Path, remote: str, mode: int = 0o644) -> None:
        import adbutils  # only device hosts with phones need it: imported when a phone is used

        try:
            device.sync.push(local, remote, mode=mode)
        except (adbutils.AdbError, OSError) as exc:
            # The sync protocol's FAIL reply carries no reason through adbutils: ask the device.
            try:
                self._check_space(device, local.stat().st_size)
            except DeviceUnavailable:
                raise
            except Exception:  # noqa: BLE001 - the device is gone: say so below
                pass
            raise DeviceUnavailable(f"could not copy {local.name} to {self.serial}: {exc}") from None

    def _big_core_mask(self, device) -> str:
        if self.big_cores:
            return self.big_cores
        _, out = self._shell(
            device,
            "for f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/cpuinfo_max_freq; do "
            "[ -r $f ] && echo $f $(cat $f); done",
        )
        freqs = {int(m[0]): int(m[1]) for m in re.findall(r"/cpu(\d+)/cpufreq/\S+ (\d+)", out)}
        if not freqs or len(set(freqs.values())) < 2:
            return ""  # no cpufreq or all cores alike: nothing to pin to
        top = max(freqs.values())
        return format(sum(1 << cpu for cpu, freq in freqs.items() if freq == top), "x")

    # --- a job
    def command_for(
        self,
        graph: str,
        options: RunOptions,
        *,
        input_names: list[str] | None = None,
        big_core_mask: str = "",
    ) -> str:
        """The device shell command for one run (public so tests and docs can show it)."""
        flags = [
            f"--graph={graph}",
            f"--num_threads={options.threads}",
            f"--warmup_runs={options.warmup_runs}",
            f"--num_runs={options.timed_runs}",
            "--warmup_min_secs=0",
            "--min_secs=0",
            f"--max_secs={int(options.time_limit_s)}",
            "--report_peak_memory_footprint=true",
        ]
        if options.profile:
            flags.append("--enable_op_profiling=true")
        if options.accelerator == Accelerator.NPU:
            flags.append(f"--external_delegate_path={self.external_delegate_path}")
            if self.external_delegate_options:
                flags.append(f"--external_delegate_options={self.external_delegate_options}")
        else:
            flags += ACCELERATOR_FLAGS[options.accelerator]
        if options.require_full_delegation and options.accelerator not in (Accelerator.CPU,):
            flags.append("--require_full_delegation=true")
        if options.input_shapes:
            names = input_names or []
            # Keys are input indices (strings once the options went through JSON).
            shapes = sorted((int(i), shape) for i, shape in options.input_shapes.items())
            pairs = [(names[i], shape) for i, shape in shapes if i < len(names)]
            flags.append("--input_layer=" + ",".join(name for name, _ in pairs))
            flags.append("--input_layer_shape=" + ":".join(",".join(map(str, s)) for _, s in pairs))
        limit = max(1, int(options.time_limit_s + 0.999))
        parts = ["timeout", "-k", "5", str(limit)]
        if big_core_mask:
            parts += ["taskset", big_core_mask]
        parts.append(self.tool_path)
        return " ".join(shlex.quote(p) for p in parts + flags)

    def run(self, model_path: Path, options: RunOptions) -> RunResult:
        model_path = Path(model_path)
        if options.accelerator not in self.accelerators:
            raise ModelError(
                f"{Accelerator.LABELS.get(options.accelerator, options.accelerator)} is not "
                f"offered by this device"
            )
        if options.accelerator == Accelerator.NPU and not self.external_delegate_path:
            raise ModelError("this device has no NPU delegate configured")
        input_names = _model_input_names(model_path) if options.input_shapes else None
        device = self._device()
        self._ensure_tool(device)
        job_dir = f"{self.work_root}/jobs/{uuid.uuid4().hex[:12]}"
        graph = f"{job_dir}/model.tflite"
        # A job cut off earlier (device unplugged) may still run there: it would skew this one's timings.
        self._shell(
            device,
            f"pkill -9 -f {shlex.quote(self._jobs_pattern())}; rm -rf {shlex.quote(self.work_root)}/jobs",
        )
        try:
            self._check_space(device, model_path.stat().st_size)
            self._shell(device, f"mkdir -p {shlex.quote(job_dir)}")
            self._push(device, model_path, graph)
            mask = self._big_core_mask(device) if options.pin_big_cores else ""
            command = self.command_for(graph, options, input_names=input_names, big_core_mask=mask)
            sensors = DeviceSensors(
                lambda cmd, timeout=30: self._shell(device, cmd, timeout=timeout), self.sysfs_root
            )
            power_source = sensors.power_source()
            baseline = sensors.idle_power(power_source) if power_source else []
            repetitions, outputs, during = [], [], []
            for index in range(max(1, int(options.repetitions))):
                cooldown = sensors.cool_down(options) if index else None
                before = sensors.thermal()
                status, output, log = self._run_once(device, job_dir, command, options, power_source)
                after = sensors.thermal()
                result = self._result(status, output, log, options)
                if power_source:
                    during += sensors.read_samples(f"{job_dir}/power.txt", power_source)
                outputs.append((result, log, output))
                repetitions.append(
                    repetition_entry(index, result, before=before, after=after, cooldown=cooldown)
                )
            return combine_repetitions(
                outputs,
                repetitions,
                power=sysfs.power_summary(power_source, baseline, during, None) if power_source else None,
                reproducibility=self._reproducibility(device, model_path, options),
            )
        finally:
            self._cleanup(job_dir)

    def _run_once(self, device, job_dir: str, command: str, options: RunOptions, power_source) -> tuple:
        """One run of the tool (one repetition), with the power sampler running beside it on the device."""
        import adbutils  # only device hosts with phones need it: imported when a phone is used

        started = time.monotonic()
        script = f"cd {shlex.quote(job_dir)} && {command} 2>&1"
        if power_source:
            script = sampler_script(power_source, f"{job_dir}/power.txt", script)
        try:
            status, output = self._shell(device, script, timeout=options.time_limit_s + HOST_MARGIN_S)
        except adbutils.AdbTimeout:
            self._kill_job(job_dir)
            raise JobTimeout(
                f"the benchmark did not finish within {options.time_limit_s:g} s and was stopped on the device"
            ) from None
        except DeviceUnavailable as exc:
            raise DeviceUnavailable(
                f"device {self.serial} went away during the job ({self.state()}): the job will be retried",
                log=exc.log,
            ) from None
        log = f"$ {command}\n{output}"
        if status in (124, 137) and time.monotonic() - started >= options.time_limit_s * 0.9:
            self._kill_job(job_dir)
            raise JobTimeout(
                f"the benchmark did not finish within {options.time_limit_s:g} s and was stopped on the device",
                log=log,
            )
        return status, output, log

    def _reproducibility(self, device, model_path: Path, options: RunOptions) -> dict:
        props = {}
        try:
            _, out = self._shell(
                device,
                "getprop ro.product.model; getprop ro.build.fingerprint; getprop ro.soc.model",
                timeout=15,
            )
            props = dict(
                zip(("model", "fingerprint", "soc"), (out.splitlines() + ["", "", ""])[:3], strict=True)
            )
        except DeviceUnavailable:
            pass
        return reproducibility_record(
            model_path,
            options,
            device=props.get("model") or self.name or self.serial,
            soc=props.get("soc") or "",
            os_build=props.get("fingerprint") or "",
            tool="TFLite benchmark_model",
            tool_version=self.tool_version or f"sha256:{self._tool_sha[:12]}",
            litert_version=self.tool_version or "",
            delegate=Accelerator.LABELS.get(options.accelerator, options.accelerator),
            delegate_options={"external_delegate_options": self.external_delegate_options}
            if options.accelerator == Accelerator.NPU and self.external_delegate_options
            else {},
            input_shapes=[
                list(map(int, s))
                for _, s in sorted((int(k), v) for k, v in (options.input_shapes or {}).items())
            ],
        )

    def _result(self, status: int, output: str, log: str, options: RunOptions) -> RunResult:
        parsed = parse_benchmark_output(output)
        if status == 127 or "inaccessible or not found" in output:
            self._tool_ready = False
            raise DeviceUnavailable(f"benchmark_model is missing on {self.serial}", log=log)
        if status > 128:
            sig = status - 128
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            raise ModelError(
                f"benchmark_model crashed on the device ({name}) while running the model", log=log
            )
        if status != 0 or not parsed.succeeded:
            reason = parsed.error_text or "\n".join(output.strip().splitlines()[-5:])
            raise ModelError(f"benchmark_model failed on the device:\n{reason}", log=log)
        result = parsed.to_run_result(runtime_version=self.runtime_version, raw_log=log)
        if options.require_full_delegation and result.fully_delegated is False:
            raise ModelError(
                f"the {parsed.delegate} delegate runs only part of the model ({parsed.delegate_kernels} delegate "
                f"kernels, the rest on the CPU); this track requires full delegation",
                log=log,
            )
        return result

    def _jobs_pattern(self, job_dir: str = "") -> str:
        """A `pkill -f` pattern for benchmark processes under the jobs folder that does not match the
        shell running pkill itself (`job[s]` matches `jobs` but is not the text `jobs`)."""
        pattern = f"{self.work_root}/job[s]/"
        return pattern + job_dir.rsplit("/", 1)[-1] if job_dir else pattern

    def _kill_job(self, job_dir: str) -> None:
        """Kills whatever still runs from the job's folder (a host-side timeout leaves it running)."""
        try:
            device = self._device(wait_s=1)
            self._shell(device, f"pkill -9 -f {shlex.quote(self._jobs_pattern(job_dir))} || true", timeout=15)
        except Exception:  # noqa: BLE001 - best effort
            logger.warning("could not kill the job in %s on %s", job_dir, self.serial)

    def _cleanup(self, job_dir: str) -> None:
        try:
            device = self._device(wait_s=1)
            self._shell(device, f"rm -rf {shlex.quote(job_dir)}", timeout=30)
        except Exception:  # noqa: BLE001 - a device that went away keeps the folder until next time
            logger.info("could not remove %s on %s", job_dir, self.serial)

    def health(self) -> dict:
        """What an operator checks: adb state, free space, battery level and temperature when readable."""
        state = self.state()
        info: dict = {"serial": self.serial, "state": state}
        if state != "device":
            return info
        try:
            device = self._device(wait_s=1)
            free = self._free_bytes(device)
            info["free_mb"] = None if free is None else round(free / 1e6, 1)
            _, out = self._shell(
                device,
                "cat /sys/class/power_supply/battery/capacity "
                "/sys/class/power_supply/battery/temp 2>/dev/null",
            )
            values = [int(v) for v in out.split() if v.lstrip("-").isdigit()]
            if len(values) == 2:
                info["battery_percent"], info["battery_temp_c"] = values[0], values[1] / 10
        except (DeviceUnavailable, Exception):  # noqa: BLE001 - health is informative only
            pass
        return info


ADB_SETTINGS = {
    "benchmark_model",
    "accelerators",
    "slug",
    "name",
    "tool_version",
    "external_delegate_path",
    "external_delegate_options",
    "big_cores",
    "adb_host",
    "adb_port",
    "work_root",
    "tcp",
    "sysfs_root",
}


def runner_from_spec(target: str) -> AdbRunner:
    """`adb:SERIAL[?key=value&…]` → an AdbRunner with the settings of `evaluation.runners.hostconfig`
    (`benchmark_model` is required: the path of the binary for the device's ABI on this host)."""
    serial, settings = device_settings("adb", target)
    if not serial:
        raise ValueError("an adb device spec needs the device's serial: adb:SERIAL")
    check_device_settings(
        "adb",
        serial,
        settings,
        known=ADB_SETTINGS,
        required="benchmark_model",
        required_hint="the benchmark_model binary for its ABI",
    )
    accelerators = settings.pop("accelerators", None)
    if "adb_port" in settings:
        settings["adb_port"] = int(settings["adb_port"])
    if isinstance(settings.get("tcp"), str):
        settings["tcp"] = settings["tcp"].lower() in ("1", "true", "yes")
    return AdbRunner(serial, accelerators=accelerators, **settings)
