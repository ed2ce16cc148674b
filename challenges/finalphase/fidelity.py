"""Fidelity of a final-phase model on the hidden test data: plain Python, no database.

- `load_arrays(name, data)` reads hidden test inputs or ground truth: an .npz (one array per input), an
  .npy (a stack), a zip of images (PNG/JPEG, named like the inputs) or of .npy files, or a .csv of
  `name,label` rows (classification ground truth).
- `run_model(model_path, inputs, …)` runs the untrusted model on every input in a sandboxed child
  process (`_fidelity_child.py` in `common.sandbox`: address-space limit, no network, dies with its
  parent, wall-clock watchdog), resizing a
  dynamic input, and returns the outputs; a crash, NaN outputs, a shape mismatch or the time limit raise
  `FidelityError` with the reason for the team.
- `compute_metrics(keys, outputs, ground_truth, …)` averages the track's metrics over the test inputs
  with `challenges.metrics`.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from challenges.metrics import MetricError
from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed
from evaluation.tflite import LITERT_ADDRESS_SPACE_MB

from . import metrics_adapter as m

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
MAX_UNCOMPRESSED = 4 * 2**30


class FidelityError(Exception):
    """The fidelity run failed; `message` is shown to the team as is."""

    def __init__(self, message: str, *, log: str = ""):
        super().__init__(message)
        self.message = message
        self.log = log


def _stem(name: str) -> str:
    return Path(name).stem


def load_arrays(name: str, data: bytes) -> dict[str, np.ndarray]:
    """Arrays keyed by the input's stem ("0001" for "0001.png"), in name order."""
    lower = name.lower()
    try:
        if lower.endswith(".npz"):
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {_stem(k): np.asarray(npz[k]) for k in sorted(npz.files)}
        if lower.endswith(".npy"):
            stack = np.load(io.BytesIO(data), allow_pickle=False)
            return {f"{i:04d}": stack[i] for i in range(len(stack))}
        if lower.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            if rows and not rows[0][-1].strip().lstrip("-").isdigit():
                rows = rows[1:]
            return {_stem(r[0]): np.asarray(int(r[-1])) for r in sorted(rows) if r}
        if lower.endswith(".zip"):
            return _load_zip(data)
    except (ValueError, OSError, zipfile.BadZipFile, UnicodeDecodeError, IndexError) as exc:
        raise FidelityError(f"The hidden data file {name} cannot be read ({exc}).") from None
    raise FidelityError(f"The hidden data file {name} is not an .npz, .npy, .csv or .zip.")


def _load_zip(data: bytes) -> dict[str, np.ndarray]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
        if sum(i.file_size for i in members) > MAX_UNCOMPRESSED:
            raise ValueError("archive expands past the size limit")
        for info in sorted(members, key=lambda i: i.filename):
            lower = info.filename.lower()
            if lower.endswith(".npy"):
                out[_stem(info.filename)] = np.load(io.BytesIO(zf.read(info)), allow_pickle=False)
            elif lower.endswith(IMAGE_EXTENSIONS):
                with Image.open(io.BytesIO(zf.read(info))) as image:
                    out[_stem(info.filename)] = np.asarray(image)
    return out


def run_model(
    model_path: Path,
    inputs: dict[str, np.ndarray],
    *,
    threads: int = 1,
    fidelity_shape: list[int] | None = None,
    time_limit_s: float = 600,
    memory_limit_mb: int = 4096,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """The model's (dequantised, float) output for every input, keyed like `inputs`."""
    names = list(inputs)
    if not names:
        raise FidelityError("The challenge has no hidden test inputs yet; the organisers have been told.")
    with tempfile.TemporaryDirectory(prefix="mai-fidelity-") as tmp:
        tmpdir = Path(tmp)
        np.savez(tmpdir / "inputs.npz", **{f"i{i}": inputs[n] for i, n in enumerate(names)})
        request = {
            "model_path": str(model_path),
            "inputs_path": str(tmpdir / "inputs.npz"),
            "outputs_path": str(tmpdir / "outputs.npz"),
            "progress_path": str(tmpdir / "progress"),
            "names": names,
            "threads": threads,
            "fidelity_shape": fidelity_shape or None,
        }
        state = {"last": None}

        def report_progress():
            progress = _read_progress(tmpdir / "progress")
            if on_progress and progress and progress != state["last"]:
                on_progress(*progress)
                state["last"] = progress

        try:
            result, _log = run_sandboxed(
                "challenges.finalphase._fidelity_child:run",
                request,
                time_limit_s=time_limit_s,
                memory_limit_mb=LITERT_ADDRESS_SPACE_MB + memory_limit_mb,
                env={"OMP_NUM_THREADS": str(threads)},
                on_poll=report_progress,
            )
        except SandboxTimeout as exc:
            raise FidelityError(
                f"The model did not finish the {len(names)} test inputs within {time_limit_s:g} s and was "
                "stopped.",
                log=exc.log,
            ) from None
        except SandboxCrash as exc:
            done = (_read_progress(tmpdir / "progress") or (0, len(names)))[0]
            if exc.signal_name.startswith("exit"):
                raise FidelityError(
                    f"The model's run ended ({exc.signal_name}) without a result.", log=exc.log
                ) from None
            raise FidelityError(
                f"The model crashed LiteRT ({exc.signal_name}) on test input "
                f"“{names[min(done, len(names) - 1)]}”: it passes the contract but cannot run on real "
                "inputs.",
                log=exc.log,
            ) from None
        except SandboxError as exc:
            if exc.error_type == "MemoryError":
                result = {"ok": False, "error": "memory", "detail": "the model ran out of memory"}
            else:
                result = {"ok": False, "error": exc.error_type, "detail": exc.message[:1000]}
            _log = exc.log
        if not result.get("ok"):
            reasons = {
                "nan": "The model produced invalid numbers: {detail}.",
                "shape": "The model cannot take the hidden test data: {detail}.",
                "memory": "The model ran out of memory on the hidden test data ({detail}).",
            }
            template = reasons.get(
                result.get("error"), "The model failed on the hidden test data ({error}: {detail})."
            )
            raise FidelityError(
                template.format(**{"error": result.get("error"), "detail": result.get("detail", "")}),
                log=_log,
            )
        with np.load(tmpdir / "outputs.npz") as npz:
            return {n: np.asarray(npz[f"o{i}"]) for i, n in enumerate(names)}


def _read_progress(path: Path) -> tuple[int, int] | None:
    try:
        done, total = path.read_text().split()
        return int(done), int(total)
    except (OSError, ValueError):
        return None


IMAGE_METRICS = {"psnr", "ssim"}
# The challenge side names them top1/top3 (in %, as its leaderboards show); accuracy_top1/3 are the
# score formula's names for the same numbers.
CLASS_METRICS = {"top1": 1, "top3": 3, "accuracy_top1": 1, "accuracy_top3": 3}
DEPTH_METRICS = {"si_rmse", "rmse", "log10", "rel"}


def _scored(fn, *args) -> float:
    """One metric of one input; a pair the metrics cannot compare is the team's error."""
    try:
        return fn(*args)
    except MetricError as exc:
        raise FidelityError(f"The model's output cannot be scored: {exc}.") from exc


def compute_metrics(
    keys: list[str],
    outputs: dict[str, np.ndarray],
    ground_truth: dict[str, np.ndarray],
    *,
    data_range: float = 255.0,
) -> dict[str, float]:
    """The track's metrics averaged over the test inputs (top-k: the percentage of inputs right)."""
    missing = [n for n in outputs if n not in ground_truth]
    if missing:
        raise FidelityError(
            f"Hidden ground truth is missing for {len(missing)} test input(s) (e.g. {missing[0]}); "
            "the organisers have been told."
        )
    values: dict[str, list[float]] = {k: [] for k in keys}
    for name, out in outputs.items():
        gt = np.asarray(ground_truth[name])
        if set(keys) & set(CLASS_METRICS):
            scores = out.reshape(-1)
            label = int(np.asarray(gt).reshape(-1)[0])
            for k in keys:
                if k in CLASS_METRICS:
                    values[k].append(100.0 * m.top_k_hit(scores, label, CLASS_METRICS[k]))
            continue
        pred = np.squeeze(out)
        target = np.squeeze(gt).astype(np.float64)
        if pred.shape != target.shape:
            raise FidelityError(
                f"The model's output for test input “{name}” is {'×'.join(map(str, out.shape))}; "
                f"the ground truth is {'×'.join(map(str, gt.shape))}."
            )
        for k in keys:
            if k in IMAGE_METRICS:
                clipped = np.clip(pred, 0, data_range)
                metric = m.psnr if k == "psnr" else m.ssim
                values[k].append(_scored(metric, clipped, target, data_range))
            elif k in DEPTH_METRICS:
                values[k].append(_scored(m.depth_error, k, pred, target))
    result = {}
    for k, vs in values.items():
        if not vs:
            continue
        mean = float(np.mean(vs))
        if not np.isfinite(mean):
            if k == "psnr":  # identical images: PSNR is infinite; cap as the MAI scripts did
                mean = 100.0
            else:
                raise FidelityError(f"{k} could not be computed on the model's outputs.")
        result[k] = mean
    return result
