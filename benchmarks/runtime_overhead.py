"""Runtime overhead of a full runtime job against a bare LiteRT loop and Google's `litert-benchmark`.

Models made here with TensorFlow: a small conv net (1×128×128×3 float), MobileNetV2 with random weights
(weights=None) at 224×224 in float32 and full-integer INT8, and the same float MobileNetV2 exported the
Keras default way (no batch size: input −1×224×224×3, which a job runs at batch 1). For each, alternating
rounds measure the mean inference time with the same threads, warm-up and timed runs:
  (a) a bare `ai_edge_litert` invoke() loop in one process (its own Python process, XNNPACK);
  (b) `litert-benchmark` (shipped with ai-edge-litert, .venv/bin);
  (c) a full runtime job on `host-cpu`: API upload → Redis → device worker process → sandboxed runner →
      report → API shows the results.
It prints c/a and c/b per model (target ≤ 1.03), comparing the least-disturbed round of each method
(the minimum over rounds, as other processes only ever add time; medians are printed beside them); the
job's end-to-end time minus the model's own warm-up and timed runs (target ≤ 1 s); the coefficient of
variation of 5 repeated jobs on one model (target ≤ 5%); the Keras-default job's mean over the batch-1
job's, from alternating pairs of jobs (target ≤ 1.03: a dynamic batch runs at 1); the CPU time of model
intake per file (the sandboxed
inspection a job's upload goes through, median over the four models × 3; target ≤ 0.3 CPU-s); and ends
with one JSON line {"ratio", "ratio_vs_litert_benchmark", "e2e_overhead_s", "cv", "dynamic_batch_ratio",
"intake_cpu_s_median", "profiling_ratio", "cv_repetitions"}. Jobs run with profiling off for the ratios;
`profiling_ratio` is the job wall time with the per-operator profile on over off (alternating pairs on the
float MobileNetV2; the mean inference must not move, the profile runs after the timed runs), and
`cv_repetitions` the coefficient of variation of the repetition means of one job with 5 repetitions.

Run: `.venv/bin/python benchmarks/runtime_overhead.py`. Redis at 127.0.0.1:6379 db 13 is used when it
answers (`BENCH_BROKER_URL` overrides), else the embedded SQLite broker; the database is a scratch SQLite.
"""

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="mai-bench-"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
RUNS = {
    "small_conv": 200,
    "mobilenet_v2_float": 100,
    "mobilenet_v2_keras_default": 100,
    "mobilenet_v2_int8": 100,
}


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


os.environ.update(
    {
        "VAR_DIR": str(VAR),
        "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # One user uploads every job of the benchmark (45): above the default 30 checks per hour.
        "EVALUATION_RATE_LIMIT": "1000",
        # The job pages are polled every 20 ms while a job runs: above the API token's default 600/minute.
        "API_TOKEN_RATE": "100000/minute",
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL") or (
    "redis://127.0.0.1:6379/13" if redis_up() else f"sqla+sqlite:///{VAR / 'broker.sqlite'}"
)
os.environ.pop("CELERY_RESULT_BACKEND", None)


# --- Models ----------------------------------------------------------------------------------------


def build_models(folder: Path) -> dict[str, Path]:
    import keras

    keras.utils.set_random_seed(0)

    from tests.tflite_models import convert_keras

    def convert(model, shape, int8=False) -> bytes:
        return convert_keras(model, int8=int8, sample_shape=shape)

    inputs = keras.Input(shape=(128, 128, 3), batch_size=1)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    for filters in (16, 32, 32):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same")(x)
    small = keras.Model(inputs, outputs)

    backbone = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    rescale = keras.layers.Rescaling(1 / 127.5, offset=-1)
    inputs = keras.Input(shape=(224, 224, 3), batch_size=1)
    mobilenet = keras.Model(inputs, backbone(rescale(inputs)))
    # The same network (same weights) exported the Keras default way: no batch size, input −1×224×224×3.
    keras_inputs = keras.Input(shape=(224, 224, 3))
    keras_default = keras.Model(keras_inputs, backbone(rescale(keras_inputs)))

    made = {
        "small_conv": convert(small, (1, 128, 128, 3)),
        "mobilenet_v2_float": convert(mobilenet, (1, 224, 224, 3)),
        "mobilenet_v2_keras_default": convert(keras_default, (1, 224, 224, 3)),
        "mobilenet_v2_int8": convert(mobilenet, (1, 224, 224, 3), int8=True),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(data)
    return paths


# --- (a) bare loop, (b) litert-benchmark -----------------------------------------------------------

BARE = r"""
import json, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter
path, threads, warmup, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
it = Interpreter(model_content=open(path, "rb").read(), num_threads=threads)
it.allocate_tensors()
rng = np.random.default_rng(0)
for d in it.get_input_details():
    if np.dtype(d["dtype"]).kind == "f":
        it.set_tensor(d["index"], rng.uniform(0, 255, size=d["shape"]).astype(d["dtype"]))
    else:
        it.set_tensor(d["index"], rng.integers(0, 256, size=d["shape"]).astype(d["dtype"]))
for _ in range(warmup):
    it.invoke()
times = []
for _ in range(runs):
    t = time.perf_counter(); it.invoke(); times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"mean_ms": sum(times) / len(times)}))
"""


def bare_loop(path: Path, runs: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", BARE, str(path), str(THREADS), str(WARMUP), str(runs)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["mean_ms"]


def litert_benchmark(path: Path, runs: int) -> float:
    result = VAR / "litert-benchmark.json"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "litert-benchmark"),
            "--model",
            str(path),
            "--num_threads",
            str(THREADS),
            "--warmup_runs",
            str(WARMUP),
            "--num_runs",
            str(runs),
            "--result_json",
            str(result),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.read_text())["latency"]["avg_ms"]


# --- (c) the full job ------------------------------------------------------------------------------


class Site:
    def __init__(self):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model

        from apitokens.services import api_token_create
        from evaluation.tokens import device_host_token

        user = get_user_model().objects.create_user(username="bench", email="bench@example.org")
        self.token = api_token_create(user=user, name="benchmark", scope="submit")[1]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(VAR / "site.log", "w")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
        self.web = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                f"127.0.0.1:{self.port}",
                "--noreload",
                "--nothreading",
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        worker_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(VAR),
            "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
            "SITE_URL": self.url,
            "DEVICE_TOKEN": device_host_token("bench-host"),
            "DEVICE_HEARTBEAT_S": "2",
        }
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "evaluation.device_worker", "--device", "local:host-cpu"],
            cwd=ROOT,
            env=worker_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self):
        from config.celery import app

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                devices = self.api("GET", "/api/evaluation/devices/")
                if devices and app.control.ping(
                    timeout=0.5, destination=[f"device-host-cpu@{socket.gethostname()}"]
                ):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"site or device worker did not start; see {VAR / 'site.log'}")

    def api(self, method, path, body=None, content_type=None):
        import urllib.request

        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def job(
        self, path: Path, runs: int, expected_s: float = 0.0, *, profile: bool = False, repetitions: int = 1
    ) -> dict:
        """Uploads, then waits for the results. No polling during the first 90% of `expected_s` (the
        model's own run time, known from the bare loop): polling the site every 20 ms would take CPU
        from the measurement on a small machine."""
        boundary = "----mai-bench"
        fields = {
            "device": "host-cpu",
            "accelerator": "xnnpack",
            "threads": str(THREADS),
            "warmup_runs": str(WARMUP),
            "timed_runs": str(runs),
            "repetitions": str(repetitions),
            # Profiling off unless asked: the ratios above compare the measurement itself.
            "profile": "true" if profile else "false",
        }
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + path.read_bytes()
        body += f"\r\n--{boundary}--\r\n".encode()
        job = self.api("POST", "/api/evaluation/jobs/", body, f"multipart/form-data; boundary={boundary}")
        accepted = time.perf_counter()
        time.sleep(expected_s * repetitions * 0.9)
        while True:
            job = self.api("GET", f"/api/evaluation/jobs/{job['uid']}/")
            if job["state"] in ("done", "failed"):
                shown = time.perf_counter()
                break
            time.sleep(0.02)
        if job["state"] != "done":
            raise RuntimeError(job["error_message"])
        own_s = (
            job["first_inference_ms"] + job["mean_ms"] * (WARMUP - 1) + job["mean_ms"] * job["runs"]
        ) / 1000
        job["e2e_overhead_s"] = (shown - accepted) - own_s
        job["e2e_s"] = shown - accepted
        return job

    def close(self):
        for proc in (self.worker, self.web):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def intake_cpu_seconds(models: dict[str, Path], repeats: int = 3) -> list[tuple[str, float, float]]:
    """(model, CPU s, wall s) of each sandboxed intake (`evaluation.tflite.inspect_model`, as an upload
    goes through it): this process's CPU plus that of the sandbox children it waited for."""
    import resource

    from evaluation.tflite import inspect_model

    out = []
    for _ in range(repeats):
        for name, path in models.items():
            data = path.read_bytes()
            before_self = resource.getrusage(resource.RUSAGE_SELF)
            before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter()
            info = inspect_model(data)
            wall = time.perf_counter() - wall
            after_self = resource.getrusage(resource.RUSAGE_SELF)
            after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = sum(
                getattr(after, f) - getattr(before, f)
                for before, after in ((before_self, after_self), (before_children, after_children))
                for f in ("ru_utime", "ru_stime")
            )
            assert info.input_shapes_run == [[1, *info.inputs[0].shape[1:]]], info.input_shapes_run
            out.append((name, cpu, wall))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the site and worker are stopped too
    print(f"Building models with TensorFlow in {VAR} …", flush=True)
    started = time.perf_counter()
    models = build_models(VAR)
    print(
        f"  built in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{n} {p.stat().st_size / 1e6:.1f} MB" for n, p in models.items())
    )
    print(
        f"Broker: {os.environ['CELERY_BROKER_URL']}; threads {THREADS}, warm-up {WARMUP}, rounds {ROUNDS}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    intake = intake_cpu_seconds(models)
    print("\nIntake (sandboxed inspection, 3 × each model): CPU s / wall s")
    for name in models:
        rows = [(c, w) for n, c, w in intake if n == name]
        print(
            f"  {name:<28} CPU {statistics.median(c for c, _ in rows):.3f} s   "
            f"wall {statistics.median(w for _, w in rows):.3f} s"
        )
    intake_median = statistics.median(c for _, c, _ in intake)
    site = Site()
    try:
        ratios, ratios_lb, overheads, bare_ms = [], [], [], {}
        print(
            f"\n{'model':<20}{'runs':>6}{'bare (a)':>12}{'litert-bm (b)':>15}{'job (c)':>11}{'c/a':>8}{'c/b':>8}"
            f"{'e2e over':>10}"
        )
        for name, path in models.items():
            runs = RUNS[name]
            a, b, c = [], [], []
            for _ in range(ROUNDS):  # alternating, so drift of the machine hits all three alike
                a.append(bare_loop(path, runs))
                b.append(litert_benchmark(path, runs))
                job = site.job(path, runs, expected_s=a[-1] * (WARMUP + runs) / 1000)
                c.append(job["mean_ms"])
                overheads.append(job["e2e_overhead_s"])
            # The least-disturbed round of each method (other processes only ever add time), and the
            # medians beside them for reference.
            ma, mb, mc = min(a), min(b), min(c)
            bare_ms[name] = statistics.median(a)
            ratios.append(mc / ma)
            ratios_lb.append(mc / mb)
            print(
                f"{name:<20}{runs:>6}{ma:>10.3f}ms{mb:>13.3f}ms{mc:>9.3f}ms{mc / ma:>8.3f}{mc / mb:>8.3f}"
                f"{statistics.median(overheads[-ROUNDS:]):>9.2f}s"
            )
            print(
                f"{'  (medians)':<26}{statistics.median(a):>10.3f}ms{statistics.median(b):>13.3f}ms"
                f"{statistics.median(c):>9.3f}ms{statistics.median(c) / statistics.median(a):>8.3f}"
                f"{statistics.median(c) / statistics.median(b):>8.3f}"
            )
        expected = bare_ms["mobilenet_v2_float"] * (WARMUP + RUNS["mobilenet_v2_float"]) / 1000
        repeated = [
            site.job(models["mobilenet_v2_float"], RUNS["mobilenet_v2_float"], expected)["mean_ms"]
            for _ in range(5)
        ]
        # The Keras-default export against its batch-1 twin, job after job in alternation, so that the
        # machine's drift hits both alike (the rounds above measure one model after the other).
        paired = {"mobilenet_v2_float": [], "mobilenet_v2_keras_default": []}
        for _ in range(2 * ROUNDS):
            for name in paired:
                job = site.job(models[name], RUNS[name], expected)
                assert job["input_shape"] == "1×224×224×3", job["input_shape"]
                paired[name].append(job["mean_ms"])
        # Profiling on against off, alternating pairs of jobs on the float MobileNetV2: the job's wall time
        # (upload accepted → results shown) grows by the per-operator profile; its mean must not move.
        profiled = {False: [], True: []}
        for _ in range(ROUNDS):
            for flag in (False, True):
                profiled[flag].append(
                    site.job(models["mobilenet_v2_float"], RUNS["mobilenet_v2_float"], expected, profile=flag)
                )
        # One job with 5 repetitions (fixed cool-down pause here: this host has no thermal sensor).
        repeated_job = site.job(
            models["mobilenet_v2_float"], RUNS["mobilenet_v2_float"], expected, repetitions=5
        )
    finally:
        site.close()
    profiling_ratio = statistics.median(j["e2e_s"] for j in profiled[True]) / statistics.median(
        j["e2e_s"] for j in profiled[False]
    )
    profiled_mean_ratio = min(j["mean_ms"] for j in profiled[True]) / min(
        j["mean_ms"] for j in profiled[False]
    )
    profile_sums = [
        j["profile"]["total_min_ms"] / j["min_ms"] for j in profiled[True] if j["profile"].get("nodes")
    ]
    repetition_means = [r["mean_ms"] for r in repeated_job["repetitions"]]
    cv_repetitions = statistics.pstdev(repetition_means) / statistics.mean(repetition_means)
    cv = statistics.pstdev(repeated) / statistics.mean(repeated)
    dynamic_ratio = min(paired["mobilenet_v2_keras_default"]) / min(paired["mobilenet_v2_float"])
    print(
        "Paired jobs, batch-1 / Keras-default MobileNetV2 (ms): "
        + "; ".join(
            f"{a:.3f} / {b:.3f}"
            for a, b in zip(paired["mobilenet_v2_float"], paired["mobilenet_v2_keras_default"], strict=True)
        )
    )
    ratio = max(ratios)
    ratio_lb = max(ratios_lb)
    overhead = statistics.median(overheads)
    print(
        f"\nload average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes inflate every figure)"
    )
    print(f"ratio c/a (worst model): {ratio:.3f}   target ≤ 1.03  {'OK' if ratio <= 1.03 else 'MISSED'}")
    print(
        f"ratio c/b (worst model): {ratio_lb:.3f}   target ≤ 1.03  {'OK' if ratio_lb <= 1.03 else 'MISSED'}"
    )
    print(
        f"e2e overhead (median over {len(overheads)} jobs, upload accepted → results shown, minus the "
        f"model's warm-up and timed runs): {overhead:.3f} s (max {max(overheads):.3f} s)   target ≤ 1 s  "
        f"{'OK' if overhead <= 1 else 'MISSED'}"
    )
    print(
        "5 repeated jobs on mobilenet_v2_float: "
        + ", ".join(f"{m:.3f}" for m in repeated)
        + f" ms; CV {cv * 100:.2f}%   target ≤ 5%  {'OK' if cv <= 0.05 else 'MISSED'}"
    )
    print(
        f"Keras-default MobileNetV2 (input −1×224×224×3) job mean / batch-1 job mean: {dynamic_ratio:.3f}   "
        f"target ≤ 1.03  {'OK' if dynamic_ratio <= 1.03 else 'MISSED'}"
    )
    print(
        f"profiling on / off, job wall time (median of {ROUNDS} alternating pairs): {profiling_ratio:.3f}; "
        f"mean inference on / off: {profiled_mean_ratio:.3f} (the profile runs after the timed runs); "
        "sum of operators' best times / fastest inference: " + ", ".join(f"{r:.3f}" for r in profile_sums)
    )
    print(
        "5 repetitions of one job on mobilenet_v2_float (means): "
        + ", ".join(f"{m:.3f}" for m in repetition_means)
        + f" ms; CV across repetitions {cv_repetitions * 100:.2f}%; "
        f"95% CI of the mean {repeated_job['ci95_low_ms']:.3f}–{repeated_job['ci95_high_ms']:.3f} ms"
    )
    print(
        f"intake CPU per file (median of {len(intake)}): {intake_median:.3f} s   target ≤ 0.3 s  "
        f"{'OK' if intake_median <= 0.3 else 'MISSED'}"
    )
    usage_self, usage_children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    cpu_total = sum(u.ru_utime + u.ru_stime for u in (usage_self, usage_children))
    print(
        f"benchmark total: wall {time.perf_counter() - started:.0f} s, CPU {cpu_total:.0f} s (this process and "
        "the children it waited for; the site and device worker are stopped at the end)"
    )
    print(
        json.dumps(
            {
                "ratio": round(ratio, 4),
                "ratio_vs_litert_benchmark": round(ratio_lb, 4),
                "e2e_overhead_s": round(overhead, 3),
                "cv": round(cv, 4),
                "dynamic_batch_ratio": round(dynamic_ratio, 4),
                "intake_cpu_s_median": round(intake_median, 3),
                "profiling_ratio": round(profiling_ratio, 4),
                "cv_repetitions": round(cv_repetitions, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
