"""The `ssh` runner: a Linux board (Raspberry Pi, Synaptics VS680 and the like) reached over SSH with
paramiko, measured by Google's `litert-benchmark` (installed on the board with
`pip install ai-edge-litert`).

The operator registers the board's address, a user and the private key the board accepts, and the
board's host key (a known_hosts file: an unknown or changed host key is refused, never accepted on
first sight). The runner then:
- `probe()`: reads the board's identity (device-tree model, SoC, CPU, OS, architecture) and the
  ai-edge-litert version behind `litert-benchmark`;
- `run(model, options)`: checks free space, copies the model over SFTP into a per-job folder, runs
  `litert-benchmark --model … --num_threads … --warmup_runs … --num_runs … --result_json …` (plus
  `--use_gpu` / `--use_npu` / `--require_full_delegation`) under the board's own `timeout`, inside a
  few lines of Python that report the benchmark's peak resident memory, reads the JSON result over
  SFTP and deletes the job's folder.

Faults: board unreachable or connection lost mid-job, out of space, host key or login refused →
`DeviceUnavailable` (retried); time limit → `JobTimeout` (killed on the board); the tool failing on the
model → `ModelError` with its own error lines.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import signal
import time
import uuid
from pathlib import Path

from evaluation import sysfs
from evaluation.runners.base import (
    Accelerator,
    DeviceInfo,
    DeviceUnavailable,
    JobTimeout,
    ModelError,
    RunOptions,
    RunResult,
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

HOST_MARGIN_S = 30.0
SPACE_MARGIN_BYTES = 16 * 1024 * 1024
PEAK_MARK = "MAI_PEAK_RSS_KB="
# Runs the benchmark as a child and prints the peak resident memory of its process tree to stderr.
PEAK_WRAPPER = (
    "import resource,subprocess,sys\n"
    "r=subprocess.call(sys.argv[1:])\n"
    f"sys.stderr.write('\\n{PEAK_MARK}%d\\n'%resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(128-r if r<0 else r)"
)


class SshRunner:
    """One Linux board over SSH (see the module docstring)."""

    transport = "ssh"

    def __init__(
        self,
        host: str,
        *,
        username: str,
        key_path: Path | str,
        port: int = 22,
        known_hosts: Path | str | None = None,
        accelerators: list[str] | None = None,
        slug: str = "",
        name: str = "",
        litert_benchmark: str = "litert-benchmark",
        dispatch_library_path: str = "",
        work_root: str = "/tmp/mai-jobs",
        connect_timeout: float = 10.0,
        sysfs_root: str = "",
    ):
        self.host, self.port, self.username = host, port, username
        self.key_path = Path(key_path)
        self.known_hosts = Path(known_hosts) if known_hosts else None
        self.accelerators = list(accelerators or [Accelerator.CPU])
        self.slug, self.name = slug, name
        self.litert_benchmark = litert_benchmark
        self.dispatch_library_path = dispatch_library_path
        self.work_root = work_root.rstrip("/")
        self.connect_timeout = connect_timeout
        # Where the board's /sys is read from (thermal zones, hwmon/INA power sensors): "" on a board.
        self.sysfs_root = sysfs_root
        self._python = ""  # the interpreter behind litert-benchmark on the board
        self._litert_version = ""

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    # --- connection
    def _connect(self):
        import paramiko  # only device hosts with SSH boards need it: imported when a board is used

        client = paramiko.SSHClient()
        if self.known_hosts:
            client.load_host_keys(str(self.known_hosts))
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                key_filename=str(self.key_path),
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.BadHostKeyException:
            client.close()
            raise DeviceUnavailable(
                f"the host key of {self.address} changed: not connecting until an operator "
                f"checks it and updates the board's known_hosts entry"
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise DeviceUnavailable(f"{self.address} refused the worker's key: {exc}") from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise DeviceUnavailable(
                    f"{self.address} has no registered host key: add it to known_hosts"
                ) from None
            raise DeviceUnavailable(f"board {self.address} unreachable: {exc}") from None
        except (OSError, EOFError) as exc:
            client.close()
            raise DeviceUnavailable(f"board {self.address} unreachable: {exc}") from None
        transport = client.get_transport()
        transport.set_keepalive(5)
        return client

    def state(self) -> str:
        """`online` when the board answers an SSH login, else `offline`."""
        try:
            client = self._connect()
        except DeviceUnavailable:
            return "offline"
        client.close()
        return "online"

    def available(self) -> bool:
        """Whether the board can take a job now (for the worker's heartbeat)."""
        return self.state() == "online"

    def _exec(
        self, client, command: str, timeout: float = 60.0, *, timeout_error: bool = False
    ) -> tuple[int, str, str]:
        """Runs a command; (exit status, stdout, stderr). Past `timeout`: TimeoutError when
        `timeout_error` (the benchmark itself), else DeviceUnavailable (a housekeeping command that does
        not return means a board in trouble). DeviceUnavailable when the connection goes away."""
        try:
            channel = client.get_transport().open_session()
            channel.exec_command(command)
        except (OSError, EOFError, AttributeError) as exc:
            raise DeviceUnavailable(f"lost the connection to {self.address}: {exc}") from None
        except Exception as exc:  # paramiko.SSHException
            raise DeviceUnavailable(f"lost the connection to {self.address}: {exc}") from None
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while True:
            busy = False
            if channel.recv_ready():
                out += channel.recv(65536)
                busy = True
            if channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
                busy = True
            if busy:
                continue
            if channel.exit_status_ready():
                break
            if time.monotonic() > deadline:
                channel.close()
                if timeout_error:
                    raise TimeoutError(f"{command!r} ran past {timeout:g} s")
                raise DeviceUnavailable(
                    f"{self.address} did not finish {command.split()[0]!r} within {timeout:g} s"
                )
            time.sleep(0.02)
        status = channel.recv_exit_status()
        while channel.recv_ready():
            out += channel.recv(65536)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
        channel.close()
        if status == -1 or not client.get_transport().is_active():
            raise DeviceUnavailable(f"lost the connection to {self.address} during a command")
        return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    # --- identity
    def probe(self) -> DeviceInfo:
        client = self._connect()
        try:
            _, out, _ = self._exec(
                client,
                (
                    "echo arch=$(uname -m); "
                    "echo model=$(tr -d '\\0' < /proc/device-tree/model 2>/dev/null); "
                    "echo compatible=$(tr '\\0' ' ' < /proc/device-tree/compatible 2>/dev/null); "
                    "echo cpu=$(grep -m1 -E '^(model name|Hardware)' /proc/cpuinfo | cut -d: -f2-); "
                    "echo os=$(. /etc/os-release 2>/dev/null; echo $PRETTY_NAME); "
                    "echo hostname=$(hostname)"
                ),
            )
            facts = dict(re.findall(r"^(\w+)=(.*)$", out, flags=re.M))
            self._find_tool(client)
        finally:
            client.close()
        compatible = facts.get("compatible", "").split()
        soc = compatible[-1].split(",")[-1] if compatible else facts.get("cpu", "").strip()
        name = self.name or facts.get("model", "").strip() or facts.get("hostname", "") or self.host
        slug = self.slug or re.sub(r"[^a-z0-9]+", "-", f"{name}-{self.host}".lower()).strip("-")
        return DeviceInfo(
            slug=slug,
            name=name,
            platform="linux",
            soc=soc,
            transport=self.transport,
            accelerators=list(self.accelerators),
            details={
                "address": self.address,
                "arch": facts.get("arch", ""),
                "os": facts.get("os", "").strip(),
                "cpu": facts.get("cpu", "").strip(),
                "litert_benchmark": self.litert_benchmark,
                "runtime_version": self.runtime_version,
            },
        )

    @property
    def runtime_version(self) -> str:
        return f"litert-benchmark (ai-edge-litert {self._litert_version or 'unknown'})"

    def _find_tool(self, client) -> None:
        """Finds litert-benchmark and the ai-edge-litert version of the Python it runs under."""
        tool = shlex.quote(self.litert_benchmark)
        status, out, _ = self._exec(client, f'head -n1 "$(command -v {tool})"')
        if status != 0 or not out.startswith("#!"):
            raise DeviceUnavailable(
                f"litert-benchmark not found on {self.address} ({self.litert_benchmark}): "
                f"install it with `pip install ai-edge-litert`"
            )
        self._python = out[2:].strip().split()[0]
        status, out, _ = self._exec(
            client,
            f"{shlex.quote(self._python)} -c "
            "\"import importlib.metadata as m; print(m.version('ai-edge-litert'))\"",
        )
        self._litert_version = out.strip() if status == 0 else ""

    # --- a job
    def command_for(self, model: str, result_json: str, options: RunOptions) -> str:
        args = [
            self.litert_benchmark,
            "--model",
            model,
            "--num_threads",
            str(options.threads),
            "--warmup_runs",
            str(options.warmup_runs),
            "--num_runs",
            str(options.timed_runs),
            "--result_json",
            result_json,
        ]
        if options.accelerator == Accelerator.GPU:
            args.append("--use_gpu")
        elif options.accelerator == Accelerator.NPU:
            args.append("--use_npu")
            if self.dispatch_library_path:
                args += ["--dispatch_library_path", self.dispatch_library_path]
        if options.require_full_delegation and options.accelerator in (Accelerator.GPU, Accelerator.NPU):
            args.append("--require_full_delegation")
        limit = max(1, int(options.time_limit_s + 0.999))
        timed = ["timeout", "-k", "5", str(limit), *args]
        if self._python:
            timed = [self._python, "-c", PEAK_WRAPPER, *timed]
        return " ".join(shlex.quote(a) for a in timed)

    def run(self, model_path: Path, options: RunOptions) -> RunResult:
        model_path = Path(model_path)
        if options.accelerator not in self.accelerators:
            raise ModelError(
                f"{Accelerator.LABELS.get(options.accelerator, options.accelerator)} is not "
                f"offered by this board"
            )
        if options.input_shapes:
            raise ModelError(
                "this board's litert-benchmark cannot resize inputs: export the model with the "
                "track's fixed input shape"
            )
        client = self._connect()
        job_dir = f"{self.work_root}/{uuid.uuid4().hex[:12]}"
        try:
            if not self._python:
                self._find_tool(client)
            self._exec(client, f"mkdir -p {shlex.quote(job_dir)}")
            self._check_space(client, model_path.stat().st_size)
            remote_model, result_json = f"{job_dir}/model.tflite", f"{job_dir}/result.json"
            self._upload(client, model_path, remote_model)
            command = self.command_for(remote_model, result_json, options)

            def shell(text, timeout=30):
                status, out, err = self._exec(client, text, timeout=timeout)
                return status, out + err

            sensors = DeviceSensors(shell, self.sysfs_root)
            power_source = sensors.power_source()
            baseline = sensors.idle_power(power_source) if power_source else []
            repetitions, outputs, during = [], [], []
            for index in range(max(1, int(options.repetitions))):
                cooldown = sensors.cool_down(options) if index else None
                before = sensors.thermal()
                result, log = self._run_once(client, job_dir, command, result_json, options, power_source)
                after = sensors.thermal()
                if power_source:
                    during += sensors.read_samples(f"{job_dir}/power.txt", power_source)
                outputs.append((result, log, ""))
                repetitions.append(
                    repetition_entry(index, result, before=before, after=after, cooldown=cooldown)
                )
            combined = combine_repetitions(
                outputs,
                repetitions,
                power=sysfs.power_summary(power_source, baseline, during, None) if power_source else None,
                reproducibility=self._reproducibility(client, model_path, options),
            )
            combined.profile = {
                "error": "litert-benchmark, the tool on this board, reports no per-operator times (it has no "
                "op-profiling option), so this job has no per-operator profile."
            }
            if len(outputs) == 1:
                combined.p5_ms, combined.p95_ms = outputs[0][0].p5_ms, outputs[0][0].p95_ms
            return combined
        finally:
            try:
                self._exec(client, f"rm -rf {shlex.quote(job_dir)}", timeout=30)
            except Exception:  # noqa: BLE001 - a board that went away keeps the folder
                logger.info("could not remove %s on %s", job_dir, self.address)
            client.close()

    def _run_once(
        self, client, job_dir, command, result_json, options, power_source
    ) -> tuple[RunResult, str]:
        """One run of litert-benchmark (one repetition), the power sampler beside it on the board."""
        started = time.monotonic()
        script = f"cd {shlex.quote(job_dir)} && {command}"
        if power_source:
            script = sampler_script(power_source, f"{job_dir}/power.txt", script)
        try:
            status, out, err = self._exec(
                client, script, timeout=options.time_limit_s + HOST_MARGIN_S, timeout_error=True
            )
        except TimeoutError:
            if self.state() == "offline":
                raise DeviceUnavailable(f"board {self.address} stopped answering during the job") from None
            self._kill(job_dir)
            raise JobTimeout(
                f"the benchmark did not finish within {options.time_limit_s:g} s and was stopped on the board"
            ) from None
        except DeviceUnavailable:
            raise DeviceUnavailable(
                f"board {self.address} went away during the job: the job will be retried"
            ) from None
        log = f"$ {command}\n{out}{err}"
        if status in (124, 137) and time.monotonic() - started >= options.time_limit_s * 0.9:
            raise JobTimeout(
                f"the benchmark did not finish within {options.time_limit_s:g} s and was stopped on the board",
                log=log,
            )
        return self._result(client, status, out, err, log, result_json, options), log

    def _reproducibility(self, client, model_path: Path, options: RunOptions) -> dict:
        status, out, _ = self._exec(
            client,
            "uname -srvm; (tr -d '\\0' < /proc/device-tree/model) 2>/dev/null; echo; "
            "grep -m1 -E '^(Hardware|model name)' /proc/cpuinfo 2>/dev/null | cut -d: -f2",
            timeout=15,
        )
        lines = [line.strip() for line in out.splitlines()] + ["", "", ""]
        return reproducibility_record(
            model_path,
            options,
            device=lines[1] or self.name or self.address,
            soc=lines[2],
            os_build=lines[0],
            tool="litert-benchmark",
            tool_version=self._litert_version,
            litert_version=self._litert_version,
            delegate=Accelerator.LABELS.get(options.accelerator, options.accelerator),
            delegate_options={"dispatch_library_path": self.dispatch_library_path}
            if options.accelerator == Accelerator.NPU and self.dispatch_library_path
            else {},
            input_shapes=[],
        )

    def _check_space(self, client, size: int) -> None:
        status, out, _ = self._exec(client, f"df -Pk {shlex.quote(self.work_root)}")
        lines = out.strip().splitlines()
        fields = lines[-1].split() if len(lines) > 1 else []
        if status == 0 and len(fields) >= 4 and fields[3].isdigit():
            free = int(fields[3]) * 1024
            if free < size + SPACE_MARGIN_BYTES:
                raise DeviceUnavailable(
                    f"no space left on board {self.address}: {free / 1e6:.1f} MB free in {self.work_root}, "
                    f"{(size + SPACE_MARGIN_BYTES) / 1e6:.1f} MB needed"
                )

    def _upload(self, client, local: Path, remote: str) -> None:
        try:
            sftp = client.open_sftp()
            try:
                sftp.put(str(local), remote)
            finally:
                sftp.close()
        except OSError as exc:
            if getattr(exc, "errno", None) == 28 or "space" in str(exc).lower():
                raise DeviceUnavailable(f"no space left on board {self.address}: {exc}") from None
            raise DeviceUnavailable(f"could not copy the model to {self.address}: {exc}") from None
        except Exception as exc:  # paramiko.SSHException, EOFError
            raise DeviceUnavailable(f"could not copy the model to {self.address}: {exc}") from None

    def _read_json(self, client, path: str) -> dict | None:
        try:
            sftp = client.open_sftp()
            try:
                with sftp.open(path) as f:
                    return json.loads(f.read())
            finally:
                sftp.close()
        except (OSError, ValueError):
            return None

    def _result(self, client, status, out, err, log, result_json, options) -> RunResult:
        peak = re.search(rf"{PEAK_MARK}(\d+)", err)
        err_clean = re.sub(rf"\n?{PEAK_MARK}\d+\n?", "", err)
        log = log.replace(f"\n{PEAK_MARK}", f"\n# {PEAK_MARK}")
        if status > 128:
            sig = status - 128
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            raise ModelError(
                f"litert-benchmark crashed on the board ({name}) while running the model", log=log
            )
        data = self._read_json(client, result_json) if status == 0 else None
        if status != 0 or data is None:
            reason = self._error_text(out + "\n" + err_clean)
            raise ModelError(f"litert-benchmark failed on the board:\n{reason}", log=log)
        latency = data.get("latency", {})
        fully = data.get("fully_accelerated")
        return RunResult(
            init_ms=latency.get("init_ms"),
            first_inference_ms=latency.get("warmup_first_ms"),
            mean_ms=latency["avg_ms"],
            median_ms=latency.get("median_ms"),
            std_ms=latency.get("std_ms"),
            min_ms=latency.get("min_ms"),
            max_ms=latency.get("max_ms"),
            peak_memory_mb=int(peak[1]) / 1024 if peak else None,
            runtime_version=self.runtime_version,
            raw_log=log,
            count=latency.get("num_runs"),
            fully_delegated=None if options.accelerator in (Accelerator.CPU, Accelerator.XNNPACK) else fully,
            p5_ms=latency.get("p5_ms"),
            p95_ms=latency.get("p95_ms"),
        )

    @staticmethod
    def _error_text(text: str) -> str:
        """The tool's own words: its `ERROR` log lines, or the exception that ended it (with the
        continuation lines LiteRT adds below it); never the whole traceback."""
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("INFO: [")]
        # `2026-01-01 12:00:00 ERROR benchmark_litert_model: Model file not found: …` → the message.
        errors = [
            re.sub(r"^[\w.]+: ", "", line.split(" ERROR ", 1)[1]) for line in lines if " ERROR " in line
        ]
        exception_at = [i for i, line in enumerate(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)]
        if exception_at:
            errors += lines[exception_at[-1] : exception_at[-1] + 4]
        return "\n".join(errors[-8:]) or "\n".join(lines[-8:])

    def _kill(self, job_dir: str) -> None:
        pattern = job_dir[:-1] + f"[{job_dir[-1]}]"  # does not match the shell running pkill
        try:
            client = self._connect()
            try:
                self._exec(client, f"pkill -9 -f {shlex.quote(pattern)} || true", timeout=15)
            finally:
                client.close()
        except (DeviceUnavailable, TimeoutError):
            logger.warning("could not kill the job in %s on %s", job_dir, self.address)

    def health(self) -> dict:
        info: dict = {"address": self.address, "state": self.state()}
        if info["state"] != "online":
            return info
        try:
            client = self._connect()
            try:
                _, out, _ = self._exec(
                    client,
                    f"df -Pk {shlex.quote(self.work_root)} 2>/dev/null || df -Pk /tmp; "
                    "cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null",
                )
            finally:
                client.close()
            lines = out.strip().splitlines()
            fields = lines[1].split() if len(lines) > 1 else []
            if len(fields) >= 4 and fields[3].isdigit():
                info["free_mb"] = round(int(fields[3]) * 1024 / 1e6, 1)
            if len(lines) > 2 and lines[2].strip().lstrip("-").isdigit():
                info["temp_c"] = int(lines[2]) / 1000
        except (DeviceUnavailable, TimeoutError):
            pass
        return info


SSH_SETTINGS = {
    "key",
    "known_hosts",
    "port",
    "accelerators",
    "slug",
    "name",
    "litert_benchmark",
    "dispatch_library_path",
    "work_root",
    "connect_timeout",
    "sysfs_root",
}


def runner_from_spec(target: str) -> SshRunner:
    """`ssh:USER@HOST[:PORT][?key=value&…]` → an SshRunner with the settings of
    `evaluation.runners.hostconfig` (`key`, the private key the board accepts, is required)."""
    address, settings = device_settings("ssh", target)
    user, at, host_port = address.rpartition("@")
    if not at or not user or not host_port:
        raise ValueError(f"an ssh device spec is ssh:USER@HOST[:PORT], not ssh:{address}")
    host, _, port = host_port.partition(":")
    check_device_settings(
        "ssh",
        address,
        settings,
        known=SSH_SETTINGS,
        required="key",
        required_hint="the private key the board accepts",
    )
    accelerators = settings.pop("accelerators", None)
    port = int(settings.pop("port", port or 22))
    if "connect_timeout" in settings:
        settings["connect_timeout"] = float(settings["connect_timeout"])
    return SshRunner(
        host, username=user, port=port, key_path=settings.pop("key"), accelerators=accelerators, **settings
    )
