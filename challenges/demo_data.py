"""Small generated datasets for the demo tracks (a few tiny images per split), so every phase can be
tried locally: inputs a participant downloads, ground truth the scorer reads, and "reference" results
that a test or a demo user can upload. Deterministic (seeded), pure NumPy + Pillow, no database.

Each generator returns {split: (file name, bytes)} for train, validation_input, validation_gt,
test_input and test_gt, plus `results_for(kind, gt_bytes, noise)` to make a plausible submission.
"""

import csv
import io
import zipfile

import numpy as np
from PIL import Image

N_VALIDATION = 3
N_TEST = 3
N_CLASSES = 30


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _smooth_image(rng, height: int, width: int, channels: int = 3) -> np.ndarray:
    """A smooth random image (bilinear up-sampling of a coarse grid), uint8."""
    coarse = rng.uniform(0, 255, (4, 4, channels))
    ys = np.linspace(0, 3, height)
    xs = np.linspace(0, 3, width)
    y0 = np.clip(ys.astype(int), 0, 2)
    x0 = np.clip(xs.astype(int), 0, 2)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    c = coarse
    top = c[y0][:, x0] * (1 - fx) + c[y0][:, x0 + 1] * fx
    bottom = c[y0 + 1][:, x0] * (1 - fx) + c[y0 + 1][:, x0 + 1] * fx
    image = top * (1 - fy) + bottom * fy + rng.normal(0, 4, (height, width, channels))
    return np.clip(image, 0, 255).astype(np.uint8)


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}.png" for i in range(1, n + 1)]


def image_track(
    seed: int,
    *,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    in_channels: int = 3,
    kind: str = "restore",
) -> dict[str, tuple[str, bytes]]:
    """Image-to-image track: inputs (degraded/down-sampled/RAW-like) and RGB targets."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[str, bytes]] = {}
    for split, n, prefix in (
        ("validation", N_VALIDATION, "val_"),
        ("test", N_TEST, "test_"),
        ("train", 4, "train_"),
    ):
        inputs, targets = {}, {}
        for name in _names(prefix, n):
            target = _smooth_image(rng, out_size[0], out_size[1])
            image = Image.fromarray(target).resize((in_size[1], in_size[0]), Image.BICUBIC)
            degraded = np.asarray(image).astype(np.float64)
            if kind == "denoise":
                degraded = degraded + rng.normal(0, 15, degraded.shape)
            if in_channels == 4:  # a de-Bayered RAW-like 4-channel input (R, G, G, B)
                degraded = np.concatenate([degraded, degraded[..., 1:2]], axis=2)[..., [0, 1, 3, 2]]
            inputs[name] = png_bytes(np.clip(degraded, 0, 255).astype(np.uint8))
            targets[name] = png_bytes(target)
        if split == "train":
            pairs = {f"input/{k}": v for k, v in inputs.items()} | {
                f"target/{k}": v for k, v in targets.items()
            }
            out["train"] = ("train.zip", zip_bytes(pairs))
        else:
            out[f"{split}_input"] = (f"{split}_inputs.zip", zip_bytes(inputs))
            out[f"{split}_gt"] = (f"{split}_ground_truth.zip", zip_bytes(targets))
    return out


def depth_track(seed: int, *, size: tuple[int, int] = (24, 32)) -> dict[str, tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[str, bytes]] = {}
    for split, n, prefix in (
        ("validation", N_VALIDATION, "val_"),
        ("test", N_TEST, "test_"),
        ("train", 4, "train_"),
    ):
        inputs, depths = {}, {}
        for name in _names(prefix, n):
            depth = rng.uniform(500, 20000) * (1 + 0.5 * _smooth_image(rng, *size, channels=1)[..., 0] / 255)
            depth[rng.random(size) < 0.05] = 0  # invalid pixels, as in ZED data
            inputs[name] = png_bytes(_smooth_image(rng, *size))
            depths[name.removesuffix(".png")] = depth.astype(np.float32)
        if split == "train":
            out["train"] = ("train.zip", zip_bytes(inputs | {"depth.npz": npz_bytes(depths)}))
        else:
            out[f"{split}_input"] = (f"{split}_inputs.zip", zip_bytes(inputs))
            out[f"{split}_gt"] = (f"{split}_depth_mm.npz", npz_bytes(depths))
    return out


def classification_track(
    seed: int, *, size: tuple[int, int] = (32, 24), n: int = 6
) -> dict[str, tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[str, bytes]] = {}
    for split, prefix in (("validation", "val_"), ("test", "test_"), ("train", "train_")):
        inputs, rows = {}, []
        for name in _names(prefix, n):
            inputs[name] = png_bytes(_smooth_image(rng, *size))
            rows.append((name, int(rng.integers(0, N_CLASSES))))
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["name", "label"])
        writer.writerows(rows)
        if split == "train":
            out["train"] = ("train.zip", zip_bytes(inputs | {"labels.csv": text.getvalue().encode()}))
        else:
            out[f"{split}_input"] = (f"{split}_inputs.zip", zip_bytes(inputs))
            out[f"{split}_gt"] = (f"{split}_labels.csv", text.getvalue().encode())
    return out


def results_for(result_format: str, ground_truth: bytes, *, noise: float = 5.0, seed: int = 1) -> bytes:
    """A plausible submission made from the ground truth (noisy copies; for demos and tests)."""
    rng = np.random.default_rng(seed)
    if result_format == "images_zip":
        files = {}
        with zipfile.ZipFile(io.BytesIO(ground_truth)) as archive:
            for name in archive.namelist():
                image = np.asarray(Image.open(io.BytesIO(archive.read(name)))).astype(np.float64)
                files[name] = png_bytes(
                    np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
                )
        return zip_bytes(files)
    if result_format == "npz":
        with np.load(io.BytesIO(ground_truth)) as npz:
            return npz_bytes(
                {
                    k: np.maximum(npz[k] * rng.uniform(0.9, 1.1, npz[k].shape), 0).astype(np.float32)
                    for k in npz.files
                }
            )
    rows = list(csv.reader(io.StringIO(ground_truth.decode())))[1:]
    text = io.StringIO()
    writer = csv.writer(text)
    for i, (name, label) in enumerate(rows):
        label = int(label)
        wrong = (label + 1) % N_CLASSES
        writer.writerow(
            [name, label if i % 2 == 0 else wrong, wrong if i % 2 == 0 else label, (label + 2) % N_CLASSES]
        )
    return text.getvalue().encode()
