"""Scoring of result files against ground truth, with no database: bytes in, scores or a clear error out.

Three result formats (`Challenge.ResultFormat`):
- ``images_zip``: a zip of PNG images named exactly like the ground truth's (a single top folder is
  allowed); PSNR and SSIM per image, averaged.
- ``npz``: one 2-D array per input, keyed by the input's name without extension (depth in mm);
  si-RMSE, RMSE, log10 and rel per image, averaged.
- ``csv``: one row per input, ``name,prediction1[,prediction2,…]`` (class indices, best first; an
  optional header row); top-1 and top-3 accuracy in percent.

Ground truth has the same shape: a zip of PNGs, an .npz with the same keys, a ``name,label`` csv.

Archives are read with `challenges.archives` (in memory, never extracted; zip bombs, unsafe paths and
corrupt members refused); results are refused when names are missing, extra or duplicated, or when an
image is corrupt or of the wrong size. Errors are `ScoringError` with a message written for the
participant. The site calls `check_upload_isolated` and `score_isolated`, which run the same code in
the sandbox (`common.sandbox`): participants' files are untrusted.
"""

import csv
import io
import posixpath
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

from . import metrics
from .archives import (  # noqa: F401 - check_upload, EXTENSIONS and ScoringError are part of this API
    EXTENSIONS,
    ScoringError,
    check_upload,
    compare_names,
    listing,
    members,
    open_zip,
    read_member,
)

PSNR_CAP = 100.0  # identical images have infinite PSNR; JSON and averages need a number


@dataclass
class ScoreResult:
    scores: dict[str, float]
    per_file: list[dict] = field(default_factory=list)


def _read_png(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, expect_shape=None, what: str = "uploaded zip"
) -> np.ndarray:
    name = posixpath.basename(info.filename)
    data = read_member(archive, info, what=what)
    if not data:
        raise ScoringError(f"“{name}” is empty (0 bytes).")
    try:
        # verify() checks every chunk and its CRC: WeasyPrint sets Pillow's global
        # LOAD_TRUNCATED_IMAGES on import, after which load() alone accepts a truncated file.
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                raise ScoringError(f"“{name}” is not a PNG image.")
            if expect_shape is not None and (img.size[1], img.size[0]) != tuple(expect_shape[:2]):
                raise ScoringError(
                    f"“{name}” is {img.size[0]}×{img.size[1]} pixels; expected "
                    f"{expect_shape[1]}×{expect_shape[0]}."
                )
            img.load()
            array = np.asarray(img)
    except ScoringError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken files
        raise ScoringError(f"“{name}” is not a readable PNG image (corrupt or truncated).") from None
    if expect_shape is not None and array.shape != tuple(expect_shape):
        channels = array.shape[2] if array.ndim == 3 else 1
        want = expect_shape[2] if len(expect_shape) == 3 else 1
        raise ScoringError(f"“{name}” has {channels} channel(s); expected {want} (e.g. RGB without alpha).")
    return array


# --- Formats --------------------------------------------------------------------------------------


def _score_images(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt_zip = open_zip(ground_truth, what="ground truth", max_uncompressed=1 << 62)
    gt = members(gt_zip, what="ground truth")
    sub_zip = open_zip(submission, what="uploaded zip", max_uncompressed=max_uncompressed)
    sub = members(sub_zip, what="uploaded zip")
    compare_names(set(gt), set(sub))
    rows = []
    for name in sorted(gt):
        target = _read_png(gt_zip, gt[name], what="ground truth")
        pred = _read_png(sub_zip, sub[name], expect_shape=target.shape)
        rows.append(
            {
                "name": name,
                "psnr": min(metrics.psnr(target, pred), PSNR_CAP),
                "ssim": metrics.ssim(target, pred),
            }
        )
    return ScoreResult(
        scores={k: float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}, per_file=rows
    )


def _load_npz(data: bytes, *, what: str, max_uncompressed: int) -> dict[str, np.ndarray]:
    open_zip(data, what=what, max_uncompressed=max_uncompressed)  # size, bomb and path checks
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ScoringError(
                f"The {what} holds Python objects; only numeric arrays are accepted."
            ) from None
        raise ScoringError(f"The {what} is not a readable .npz archive of arrays.") from None
    except Exception:  # noqa: BLE001
        raise ScoringError(f"The {what} is not a readable .npz archive of arrays.") from None


def _score_depth(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt = _load_npz(ground_truth, what="ground truth", max_uncompressed=1 << 62)
    sub = _load_npz(submission, what="uploaded .npz", max_uncompressed=max_uncompressed)
    compare_names(set(gt), set(sub))
    rows = []
    for name in sorted(gt):
        target = np.squeeze(gt[name])
        pred = sub[name]
        if pred.ndim == 3 and pred.shape[-1] == 1:
            pred = pred[..., 0]
        if pred.shape != target.shape:
            raise ScoringError(
                f"“{name}” has shape {'×'.join(map(str, pred.shape))}; expected "
                f"{'×'.join(map(str, target.shape))}."
            )
        if not np.issubdtype(pred.dtype, np.number):
            raise ScoringError(f"“{name}” is not a numeric array.")
        try:
            errors = metrics.depth_errors(target, pred)
        except metrics.MetricError as exc:
            raise ScoringError(f"“{name}”: {exc}.") from None
        rows.append(
            {
                "name": name,
                "si_rmse": errors.si_rmse,
                "rmse": errors.rmse,
                "log10": errors.log10,
                "rel": errors.rel,
            }
        )
    keys = ("si_rmse", "rmse", "log10", "rel")
    return ScoreResult(scores={k: float(np.mean([r[k] for r in rows])) for k in keys}, per_file=rows)


def _read_csv(data: bytes, *, what: str, min_columns: int) -> dict[str, list[int]]:
    if not data:
        raise ScoringError(f"The {what} is empty (0 bytes).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScoringError(f"The {what} is not UTF-8 text.") from None
    rows: dict[str, list[int]] = {}
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        row = [cell.strip() for cell in row]
        if not row or not any(row):
            continue
        if len(row) < min_columns:
            raise ScoringError(
                f"Line {line_no} of the {what} has {len(row)} column(s); expected name,prediction…."
            )
        try:
            values = [int(cell) for cell in row[1:] if cell != ""]
        except ValueError:
            if line_no == 1:
                continue  # a header row
            raise ScoringError(
                f"Line {line_no} of the {what}: class indices must be whole numbers."
            ) from None
        if row[0] in rows:
            raise ScoringError(f"The {what} lists “{row[0]}” twice.")
        rows[row[0]] = values
    if not rows:
        raise ScoringError(f"The {what} has no rows.")
    return rows


def _score_classification(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt = _read_csv(ground_truth, what="ground truth", min_columns=2)
    sub = _read_csv(submission, what="uploaded .csv", min_columns=2)
    compare_names(set(gt), set(sub))
    names = sorted(gt)
    labels = np.array([gt[n][0] for n in names])
    width = max(len(sub[n]) for n in names)
    ranked = np.full((len(names), width), -1)
    for i, n in enumerate(names):
        ranked[i, : len(sub[n])] = sub[n]
    top1 = metrics.top_k_hits(labels, ranked, 1)
    top3 = metrics.top_k_hits(labels, ranked, 3)
    rows = [
        {
            "name": n,
            "prediction": int(ranked[i, 0]),
            "top1": float(top1[i]) * 100,
            "top3": float(top3[i]) * 100,
        }
        for i, n in enumerate(names)
    ]
    return ScoreResult(
        scores={"top1": float(top1.mean() * 100), "top3": float(top3.mean() * 100)}, per_file=rows
    )


SCORERS = {"images_zip": _score_images, "npz": _score_depth, "csv": _score_classification}
METRIC_KEYS = {
    "images_zip": ("psnr", "ssim"),
    "npz": ("si_rmse", "rmse", "log10", "rel"),
    "csv": ("top1", "top3"),
}


def expected_names(*, result_format: str, ground_truth: bytes) -> set[str]:
    if result_format == "images_zip":
        return set(
            members(
                open_zip(ground_truth, what="ground truth", max_uncompressed=1 << 62), what="ground truth"
            )
        )
    if result_format == "npz":
        return set(_load_npz(ground_truth, what="ground truth", max_uncompressed=1 << 62))
    return set(_read_csv(ground_truth, what="ground truth", min_columns=2))


def score(
    *, result_format: str, submission: bytes, ground_truth: bytes, max_uncompressed: int
) -> ScoreResult:
    """Scores the result bytes against the ground-truth bytes, or raises `ScoringError`."""
    try:
        scorer = SCORERS[result_format]
    except KeyError:
        raise ScoringError(f"Unknown result format “{result_format}”.") from None
    if not submission:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    return scorer(submission, ground_truth, max_uncompressed=max_uncompressed)


# --- In the sandbox -------------------------------------------------------------------------------
# Participants' files are untrusted: the site opens them only through `common.sandbox`.
UPLOAD_CHECK_TIME_LIMIT_S = 60
UPLOAD_CHECK_MEMORY_MB = 512
SCORING_TIME_LIMIT_S = 900


def check_upload_isolated(
    *, result_format: str, name: str, data: bytes, max_bytes: int, max_uncompressed: int
) -> None:
    """`check_upload` in the sandbox; raises `ScoringError` with the participant's message."""
    if not data:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ScoringError(f"The uploaded file is larger than {max_bytes // (1024 * 1024)} MB.")
    with tempfile.TemporaryDirectory(prefix="mai-upload-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        request = {
            "path": str(path),
            "result_format": result_format,
            "name": name,
            "max_bytes": max_bytes,
            "max_uncompressed": max_uncompressed,
        }
        try:
            result, _log = run_sandboxed(
                "challenges.archives:check_upload_child",
                request,
                time_limit_s=UPLOAD_CHECK_TIME_LIMIT_S,
                memory_limit_mb=UPLOAD_CHECK_MEMORY_MB + len(data) // 2**20,
            )
        except SandboxTimeout:
            raise ScoringError(
                f"Checking the file took longer than {UPLOAD_CHECK_TIME_LIMIT_S} s; it cannot be read."
            ) from None
        except (SandboxCrash, SandboxError) as exc:
            raise ScoringError(f"The file cannot be read ({exc.message}).") from None
    if result["refused"]:
        raise ScoringError(result["refused"])


def score_child(request: dict) -> dict:
    """In the sandbox: `score` on the files at the request's paths."""
    with open(request["submission_path"], "rb") as fh:
        submission = fh.read()
    with open(request["ground_truth_path"], "rb") as fh:
        ground_truth = fh.read()
    try:
        result = score(
            result_format=request["result_format"],
            submission=submission,
            ground_truth=ground_truth,
            max_uncompressed=int(request["max_uncompressed"]),
        )
    except ScoringError as exc:
        return {"refused": str(exc)}
    return {"refused": None, "scores": result.scores, "per_file": result.per_file}


def score_isolated(
    *, result_format: str, submission: bytes, ground_truth: bytes, max_uncompressed: int
) -> ScoreResult:
    """`score` in the sandbox. The participant's file is at fault (`ScoringError`) when it is refused,
    runs the scorer out of memory or time; any other failure is ours and raises `RuntimeError`."""
    if not submission:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    with tempfile.TemporaryDirectory(prefix="mai-score-") as tmp:
        sub_path, gt_path = Path(tmp) / "submission", Path(tmp) / "ground-truth"
        sub_path.write_bytes(submission)
        gt_path.write_bytes(ground_truth)
        request = {
            "submission_path": str(sub_path),
            "ground_truth_path": str(gt_path),
            "result_format": result_format,
            "max_uncompressed": max_uncompressed,
        }
        # Room for both files expanded as arrays (float64 images), plus Python and numpy.
        memory_mb = 1024 + 6 * (max_uncompressed + len(ground_truth)) // 2**20
        try:
            result, _log = run_sandboxed(
                "challenges.scoring:score_child",
                request,
                time_limit_s=SCORING_TIME_LIMIT_S,
                memory_limit_mb=memory_mb,
            )
        except SandboxTimeout:
            raise ScoringError(
                f"Scoring these results took longer than {SCORING_TIME_LIMIT_S // 60} minutes and was stopped."
            ) from None
        except SandboxError as exc:
            if exc.error_type == "MemoryError":
                raise ScoringError("These results need more memory to score than allowed.") from None
            raise RuntimeError(f"scorer failed: {exc.error_type}: {exc.message}\n{exc.log}") from None
        except SandboxCrash as exc:
            raise RuntimeError(f"scorer crashed: {exc.signal_name}\n{exc.log}") from None
    if result["refused"]:
        raise ScoringError(result["refused"])
    return ScoreResult(scores=result["scores"], per_file=result["per_file"])
