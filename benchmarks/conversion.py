"""Conversion cost: MobileNetV2 (weights=None) at 224×224 to full INT8 (uint8 input and output) with 100
calibration images, through this site's service path against TensorFlow's converter called directly.

  (a) service path: `conversion_create` (upload checks, stored privately, outbox row) then
      `conversion_run`, as the `conversion.run` task runs it: the sandboxed child imports TensorFlow,
      loads the .keras in safe mode, exports it at the track's shape, converts with the track's 100
      calibration images, runs original and converted on 8 samples for the fidelity report; then the
      result's sandboxed intake and contract check, and the report stored;
  (b) direct: one fresh Python process that imports TensorFlow, loads the same .keras and calls
      `TFLiteConverter.from_keras_model` with the same INT8 settings and the same 100 images.

Both include TensorFlow's import (each starts a process). Rounds alternate (b, a); the least-disturbed
round of each counts (other processes only ever add time). Prints wall and CPU seconds of each (CPU of
the process and its children), the ratio a/b (target ≤ 1.2), the peak resident memory of the
conversion's sandboxed child and of the direct process, and ends with one JSON line
{"int8_s", "direct_s", "ratio", "peak_mb", …}.

Run: `.venv/bin/python benchmarks/conversion.py` (BENCH_ROUNDS=1 by default). A scratch SQLite database
and the serverless SQLite broker are used; nothing else is touched.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="mai-bench-conversion-"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
CALIBRATION = 100

os.environ.update(
    {
        "VAR_DIR": str(VAR),
        "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{VAR / 'broker.sqlite'}",
        "CONVERSION_MAX_CALIBRATION_SAMPLES": str(CALIBRATION),
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("CELERY_RESULT_BACKEND", None)

DIRECT = r"""
import json, resource, sys, time
started = time.monotonic()
import numpy as np
import tensorflow as tf
import keras
model = keras.saving.load_model(sys.argv[1], compile=False, safe_mode=True)
images = np.load(sys.argv[2]).astype(np.float32)
def representative():
    for image in images:
        yield [image[None]]
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = representative
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.uint8
converter.inference_output_type = tf.uint8
content = converter.convert()
open(sys.argv[3], "wb").write(content)
peak = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"wall_s": time.monotonic() - started, "bytes": len(content), "peak_mb": peak}))
"""


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(folder: Path) -> tuple[Path, Path]:
    """MobileNetV2 (random weights) taking 1×224×224×3 in [0, 255], and 100 photograph-like images."""
    import keras
    import numpy as np

    from tests.conversion.conftest import smooth_images

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(224, 224, 3), batch_size=1)
    backbone = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    keras.Model(inputs, backbone(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs))).save(
        folder / "mobilenet_v2.keras"
    )
    np.save(folder / "calibration.npy", smooth_images(CALIBRATION, (224, 224, 3), seed=7))
    return folder / "mobilenet_v2.keras", folder / "calibration.npy"


def run_direct(model: Path, images: Path) -> dict:
    cpu, wall = cpu_seconds(), time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", DIRECT, str(model), str(images), str(VAR / "direct.tflite")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_s": time.monotonic() - wall, "cpu_s": cpu_seconds() - cpu, **result}


def run_service(model: Path, track, owner) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conversion import services
    from conversion.models import Conversion

    cpu, wall = cpu_seconds(), time.monotonic()
    conversion = services.conversion_create(
        owner=owner,
        upload=SimpleUploadedFile(model.name, model.read_bytes()),
        output_kind="int8",
        challenge=track,
    )
    services.conversion_run(conversion_id=conversion.pk)
    elapsed, used = time.monotonic() - wall, cpu_seconds() - cpu
    conversion = Conversion.objects.get(pk=conversion.pk)
    assert conversion.state == "done", conversion.error_message
    assert conversion.contract_problems == [], conversion.contract_problems
    return {
        "wall_s": elapsed,
        "cpu_s": used,
        "bytes": conversion.result_size,
        "peak_mb": conversion.timings.get("peak_mb"),
        "timings": conversion.timings,
        "fidelity": conversion.fidelity,
    }


def main() -> None:
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from conversion.models import CalibrationSet
    from tests.factories import ChallengeFactory, UserFactory, WorkshopFactory

    model, images = build(VAR)
    track = ChallengeFactory(
        workshop=WorkshopFactory(slug="bench"),
        title="Quantized Camera Scene Detection (224)",
        input_shape=[1, 224, 224, 3],
        input_dtype="uint8",
        output_shape=[1, 1000],
        output_dtype="uint8",
        int8_required=True,
    )
    calibration = CalibrationSet(
        challenge=track, original_name="calibration.npy", samples=CALIBRATION, sample_shape=[224, 224, 3]
    )
    calibration.file.save("calibration.npy", ContentFile(images.read_bytes()), save=False)
    calibration.save()
    owner = UserFactory()

    service, direct = [], []
    for round_ in range(ROUNDS):
        direct.append(run_direct(model, images))
        service.append(run_service(model, track, owner))
        print(
            f"round {round_ + 1}: direct {direct[-1]['wall_s']:.1f} s wall / {direct[-1]['cpu_s']:.1f} CPU-s, "
            f"service {service[-1]['wall_s']:.1f} s wall / {service[-1]['cpu_s']:.1f} CPU-s; "
            f"child stages {json.dumps({k: round(v, 2) for k, v in service[-1]['timings'].items() if v})}",
            flush=True,
        )
    best_service = min(service, key=lambda r: r["wall_s"])
    best_direct = min(direct, key=lambda r: r["wall_s"])
    ratio = best_service["wall_s"] / best_direct["wall_s"]
    print(
        f"INT8 MobileNetV2 224×224, {CALIBRATION} calibration images: service {best_service['wall_s']:.2f} s "
        f"({best_service['cpu_s']:.2f} CPU-s, {best_service['bytes'] / 2**20:.2f} MB), direct "
        f"{best_direct['wall_s']:.2f} s ({best_direct['cpu_s']:.2f} CPU-s, {best_direct['bytes'] / 2**20:.2f} MB); "
        f"ratio {ratio:.3f} (target ≤ 1.2); peak RSS of the conversion child {best_service['peak_mb']:.0f} MB, "
        f"of the direct process {best_direct['peak_mb']:.0f} MB; fidelity top-1 agreement "
        f"{best_service['fidelity'].get('top1_agreement')}"
    )
    print(
        json.dumps(
            {
                "int8_s": round(best_service["wall_s"], 3),
                "direct_s": round(best_direct["wall_s"], 3),
                "ratio": round(ratio, 3),
                "peak_mb": round(best_service["peak_mb"], 1),
                "int8_cpu_s": round(best_service["cpu_s"], 3),
                "direct_cpu_s": round(best_direct["cpu_s"], 3),
                "direct_peak_mb": round(best_direct["peak_mb"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
