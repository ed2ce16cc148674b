"""Scoring of result files against ground truth, with no database: bytes in, scores or a clear error out.

Three result formats (`Challenge.ResultFormat`):
- ``images_zip``: a zip of PNG images named exactly like the ground truth's (a single top folder is
  allowed); PSNR and SSIM per image, averaged.
- ``npz``: one 2-D array per input, keyed by the input's name without extension (depth in mm);
  si-RMSE, RMSE, log10 and rel per image, averaged.
- ``csv``: one row per input, ``name,prediction1[,prediction2,…]`` (class indices, best first; an
  optional header row); top-1 and top-3 accuracy in percent.

Ground truth has the same shape: a zip of PNGs, an .npz with the same keys, a ``name,label`` csv.

Every archive is read in memory, never extracted, and refused before reading when it would expand past
`max_uncompressed` (zip bombs), when a member's path is absolute or contains ``..``, when names are
missing, extra or duplicated, or when an image is corrupt or of the wrong size. Errors are
`ScoringError` with a message written for the participant.
"""

import csv
import io
import posixpath
import zipfile
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from . import metrics

PSNR_CAP = 100.0  # identical images have infinite PSNR; JSON and averages need a number
MAX_LISTED = 5


class ScoringError(ValueError):
    """Why the result files cannot be scored, in words for the participant."""


@dataclass
class ScoreResult:
    scores: dict[str, float]
    per_file: list[dict] = field(default_factory=list)


def _listing(names) -> str:
    names = sorted(names)
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


# --- Archives -------------------------------------------------------------------------------------


def _open_zip(data: bytes, *, what: str, max_uncompressed: int) -> zipfile.ZipFile:
    if not data:
        raise ScoringError(f"The {what} is empty (0 bytes).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ScoringError(f"The {what} is not a valid zip archive.")
    total = 0
    for info in archive.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise ScoringError(f"The {what} contains an unsafe path “{name}” (absolute or with “..”).")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise ScoringError(f"The {what} contains a symbolic link “{name}”.")
        total += info.file_size
        if total > max_uncompressed:
            raise ScoringError(
                f"The {what} would expand to more than {max_uncompressed // (1024 * 1024)} MB; "
                "this looks like a zip bomb and was refused."
            )
    return archive


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name)
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith(".") or base == "Thumbs.db"


def _members(archive: zipfile.ZipFile, *, what: str) -> dict[str, zipfile.ZipInfo]:
    """Basename → member, for the files of a flat archive or one with a single top folder."""
    files = [i for i in archive.infolist() if not _is_junk(i.filename)]
    folders = {posixpath.dirname(i.filename) for i in files}
    if len(folders) > 1:
        raise ScoringError(
            f"The {what} must hold its files at the top level or in one folder, "
            f"not in several ({_listing(f or '/' for f in folders)})."
        )
    out: dict[str, zipfile.ZipInfo] = {}
    for info in files:
        base = posixpath.basename(info.filename)
        if base in out:
            raise ScoringError(f"The {what} contains “{base}” twice.")
        out[base] = info
    return out


def _compare_names(expected: set[str], got: set[str]) -> None:
    missing, extra = expected - got, got - expected
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} file(s): {_listing(missing)}")
    if extra:
        problems.append(f"{len(extra)} unexpected file(s): {_listing(extra)}")
    if problems:
        raise ScoringError("The results do not match the inputs: " + "; ".join(problems) + ".")


def _read_png(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, expect_shape=None) -> np.ndarray:
    name = posixpath.basename(info.filename)
    data = archive.read(info)
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
        raise ScoringError(f"“{name}” is not a readable PNG image (corrupt or truncated).")
    if expect_shape is not None and array.shape != tuple(expect_shape):
        channels = array.shape[2] if array.ndim == 3 else 1
        want = expect_shape[2] if len(expect_shape) == 3 else 1
        raise ScoringError(f"“{name}” has {channels} channel(s); expected {want} (e.g. RGB without alpha).")
    return array


# --- Formats --------------------------------------------------------------------------------------


def _score_images(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt_zip = _open_zip(ground_truth, what="ground truth", max_uncompressed=1 << 62)
    gt = _members(gt_zip, what="ground truth")
    sub_zip = _open_zip(submission, what="uploaded zip", max_uncompressed=max_uncompressed)
    sub = _members(sub_zip, what="uploaded zip")
    _compare_names(set(gt), set(sub))
    rows = []
    for name in sorted(gt):
        target = _read_png(gt_zip, gt[name])
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
    _open_zip(data, what=what, max_uncompressed=max_uncompressed)  # size, bomb and path checks
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ScoringError(f"The {what} holds Python objects; only numeric arrays are accepted.")
        raise ScoringError(f"The {what} is not a readable .npz archive of arrays.")
    except Exception:  # noqa: BLE001
        raise ScoringError(f"The {what} is not a readable .npz archive of arrays.")


def _score_depth(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt = _load_npz(ground_truth, what="ground truth", max_uncompressed=1 << 62)
    sub = _load_npz(submission, what="uploaded .npz", max_uncompressed=max_uncompressed)
    _compare_names(set(gt), set(sub))
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
            raise ScoringError(f"“{name}”: {exc}.")
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
        raise ScoringError(f"The {what} is not UTF-8 text.")
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
            raise ScoringError(f"Line {line_no} of the {what}: class indices must be whole numbers.")
        if row[0] in rows:
            raise ScoringError(f"The {what} lists “{row[0]}” twice.")
        rows[row[0]] = values
    if not rows:
        raise ScoringError(f"The {what} has no rows.")
    return rows


def _score_classification(submission: bytes, ground_truth: bytes, *, max_uncompressed: int) -> ScoreResult:
    gt = _read_csv(ground_truth, what="ground truth", min_columns=2)
    sub = _read_csv(submission, what="uploaded .csv", min_columns=2)
    _compare_names(set(gt), set(sub))
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
            "label": int(labels[i]),
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
EXTENSIONS = {"images_zip": (".zip",), "npz": (".npz",), "csv": (".csv", ".txt")}
METRIC_KEYS = {
    "images_zip": ("psnr", "ssim"),
    "npz": ("si_rmse", "rmse", "log10", "rel"),
    "csv": ("top1", "top3"),
}


def check_upload(
    *, result_format: str, name: str, data: bytes, max_bytes: int, max_uncompressed: int
) -> None:
    """Cheap checks done at upload time, before anything is stored (the scorer checks everything)."""
    if not data:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ScoringError(f"The uploaded file is larger than {max_bytes // (1024 * 1024)} MB.")
    extensions = EXTENSIONS[result_format]
    if not name.lower().endswith(extensions):
        raise ScoringError(f"This challenge takes a {' or '.join(extensions)} file, not “{name}”.")
    if result_format in ("images_zip", "npz"):
        archive = _open_zip(data, what="uploaded file", max_uncompressed=max_uncompressed)
        if result_format == "images_zip" and not _members(archive, what="uploaded zip"):
            raise ScoringError("The uploaded zip holds no files.")


def expected_names(*, result_format: str, ground_truth: bytes) -> set[str]:
    if result_format == "images_zip":
        return set(
            _members(
                _open_zip(ground_truth, what="ground truth", max_uncompressed=1 << 62), what="ground truth"
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
        raise ScoringError(f"Unknown result format “{result_format}”.")
    if not submission:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    return scorer(submission, ground_truth, max_uncompressed=max_uncompressed)
