"""The code that reads a track's calibration data inside the sandbox (`common.sandbox`): an organiser's
upload (.npz, .npy, or a zip of images or .npy files) or a released validation file is untrusted, so it
is unpacked and decoded only here, under the sandbox's time and memory limits, never in the web or
Celery process.

Called as `run_sandboxed("conversion._calibration_child:read", request, …)`; imports only the standard
library, numpy and Pillow: no Django. Before anything is decompressed, the uncompressed size of an
archive's members (zip or npz) is checked against `max_uncompressed_bytes`, and an image's size is read
from its header and must be the track's input size, so a decompression bomb is refused with its size
named and never decoded.

request = {"path", "name", "label", "input_shape": [1, H, W, C], "out_path", "max_uncompressed_bytes"}
→ {"samples": n, "sample_shape": [H, W, C]} with the float32 stack saved to `out_path`,
  or {"refused": "what is wrong, for the person who uploaded it"}.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class Refused(Exception):
    """The file cannot be used; the text says why, for the uploader."""


def format_shape(shape) -> str:
    return "×".join(str(int(d)) for d in shape) if len(shape) else "scalar"


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def read(request: dict) -> dict:
    import numpy as np

    name, label = request["name"], request["label"]
    input_shape = [int(d) for d in request["input_shape"]]
    try:
        data = Path(request["path"]).read_bytes()
        arrays = _arrays(name, data, input_shape, int(request["max_uncompressed_bytes"]))
        stack = _stack(arrays, input_shape, label=label)
    except Refused as exc:
        return {"refused": str(exc)}
    except (
        ValueError,
        TypeError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
        IndexError,
    ) as exc:
        return {"refused": f"The calibration file {name} cannot be read ({exc})."}
    np.save(request["out_path"], stack, allow_pickle=False)
    return {"samples": int(stack.shape[0]), "sample_shape": [int(d) for d in stack.shape[1:]]}


def _arrays(name: str, data: bytes, input_shape: list[int], limit: int) -> list:
    import numpy as np

    lower = name.lower()
    if lower.endswith(".npz"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_expanded_size(name, zf.infolist(), limit)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return [np.asarray(npz[k]) for k in sorted(npz.files)]
    if lower.endswith(".npy"):
        stack = np.load(io.BytesIO(data), allow_pickle=False)
        if stack.ndim == 0:
            raise Refused(
                f"The calibration file {name} holds a single number; an .npy file must hold a stack of "
                f"samples, N×{format_shape(input_shape[1:])}."
            )
        return list(stack)
    if lower.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        if rows and not rows[0][-1].strip().lstrip("-").isdigit():
            rows = rows[1:]
        return [np.asarray(int(r[-1])) for r in sorted(rows) if r]
    if lower.endswith(".zip"):
        return _zip_arrays(name, data, input_shape, limit)
    raise Refused(f"The calibration file {name} is not an .npz, .npy, .csv or .zip.")


def _check_expanded_size(name: str, members, limit: int) -> None:
    expanded = sum(i.file_size for i in members)
    if expanded > limit:
        raise Refused(
            f"The calibration file {name} expands to {format_bytes(expanded)}; at most "
            f"{format_bytes(limit)} unpacked is accepted."
        )


def _zip_arrays(name: str, data: bytes, input_shape: list[int], limit: int) -> list:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    # The size is checked from the header below, against the track's input, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = None
    want_hw = tuple(input_shape[1:3]) if len(input_shape) >= 3 else None
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
        _check_expanded_size(name, members, limit)
        for info in sorted(members, key=lambda i: i.filename):
            lower = info.filename.lower()
            if lower.endswith(".npy"):
                out.append(np.load(io.BytesIO(zf.read(info)), allow_pickle=False))
            elif lower.endswith(IMAGE_EXTENSIONS):
                try:
                    with Image.open(io.BytesIO(zf.read(info))) as image:
                        width, height = image.size
                        if want_hw is not None and (height, width) != want_hw:
                            raise Refused(
                                f"The image {info.filename} in {name} is {width}×{height} pixels; the "
                                f"track's input is {format_shape(input_shape)}, so each image must be "
                                f"{want_hw[1]}×{want_hw[0]} pixels."
                            )
                        out.append(np.asarray(image))
                except UnidentifiedImageError:
                    raise Refused(
                        f"The file {info.filename} in {name} is not an image Pillow can read."
                    ) from None
    return out


def _stack(arrays: list, input_shape: list[int], *, label: str):
    import numpy as np

    want = tuple(input_shape[1:])
    samples = []
    for array in arrays:
        array = np.asarray(array)
        if array.ndim == len(want) + 1 and array.shape[0] == 1:
            array = array[0]
        if array.ndim == len(want) - 1 and want[-1] == 1:
            array = array[..., None]
        if tuple(array.shape) != want:
            raise Refused(
                f"The {label} holds samples of {format_shape(array.shape)}; the track's input is "
                f"{format_shape(input_shape)}, so each sample must be {format_shape(want)}."
            )
        samples.append(array.astype(np.float32))
    if not samples:
        raise Refused(f"The {label} holds no samples (.npz/.npy arrays or images).")
    return np.stack(samples)
