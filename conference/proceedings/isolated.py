"""Untrusted files of the proceedings opened in the sandbox only (`common.sandbox.run_sandboxed`):
uploaded images (partner logos, speaker photos) decoded, checked and re-encoded by Pillow, and the page
counts of camera-ready PDFs read by pypdf. A crafted file that crashes, loops or eats memory kills the
child, never the web or Celery worker. No Django here: the child imports this module by name."""

from __future__ import annotations

from pathlib import Path

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed

IMAGE_TARGET = "conference.proceedings.isolated:image_child"
PAGES_TARGET = "conference.proceedings.isolated:pages_child"
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
MAX_IMAGE_PIXELS = 40_000_000  # a 6000×6000 photo passes; a decompression bomb does not
IMAGE_MEMORY_MB = 1024
PAGES_MEMORY_MB = 2048


class ImageRefused(Exception):
    """The upload is not an image we accept; the message is for the person who uploaded it."""


class PdfUnreadable(Exception):
    """A PDF whose pages could not be counted; the message names the file."""


def image_child(request: dict) -> dict:
    """In the sandbox: decode `path`, refuse what is not a PNG/JPEG/GIF/WebP image, shrink it to fit
    `max_width`×`max_height` (never enlarged) and write it to `out` as PNG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    # Checked from the header below, right after opening (the message then names the size); Pillow's
    # own guard would only warn up to twice the limit and raise without the size above it.
    Image.MAX_IMAGE_PIXELS = None
    path = request["path"]
    try:
        with Image.open(path) as probe:
            kind = probe.format
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                return {"refused": _too_many_pixels(width, height)}
            probe.verify()
        with Image.open(path) as image:
            if kind not in IMAGE_FORMATS:
                return {"refused": f"a {kind} image; upload a PNG, JPEG, GIF or WebP file"}
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA")
            image.thumbnail((request["max_width"], request["max_height"]), Image.Resampling.LANCZOS)
            image.save(request["out"], format="PNG", optimize=True)
            return {"width": image.width, "height": image.height, "format": IMAGE_FORMATS[kind]}
    except UnidentifiedImageError:
        return {"refused": "not an image; upload a PNG, JPEG, GIF or WebP file"}
    except (OSError, SyntaxError, ValueError) as exc:
        return {"refused": f"a damaged image ({exc})"}


def _too_many_pixels(width: int, height: int) -> str:
    return f"an image of {width}×{height} pixels; at most {MAX_IMAGE_PIXELS // 1_000_000} million pixels are accepted"


def pages_child(request: dict) -> dict:
    """In the sandbox: the page count of each PDF in `paths`, or the reason it cannot be read."""
    from pypdf import PdfReader

    counts = []
    for path in request["paths"]:
        try:
            counts.append({"pages": len(PdfReader(path).pages)})
        except Exception as exc:  # noqa: BLE001 - any failure is a verdict on the file
            counts.append({"error": f"{type(exc).__name__}: {exc}"})
    return {"counts": counts}


def _run(target: str, request: dict, *, time_limit_s: float, memory_limit_mb: int) -> dict:
    try:
        result, _log = run_sandboxed(
            target, request, time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb
        )
    except SandboxTimeout:
        return {"crash": f"reading it took longer than {time_limit_s:.0f} s"}
    except SandboxCrash as exc:
        return {"crash": f"the reader stopped ({exc.signal_name})"}
    except SandboxError as exc:
        return {
            "crash": "out of memory"
            if exc.error_type == "MemoryError"
            else f"the reader stopped ({exc.error_type})"
        }
    return result


def image_normalised(path: str | Path, out: str | Path, *, max_width: int, max_height: int) -> dict:
    """The uploaded image at `path` checked and re-encoded as a PNG at `out`, no larger than the box;
    returns {"width", "height", "format"} or raises ImageRefused with the reason."""
    result = _run(
        IMAGE_TARGET,
        {"path": str(path), "out": str(out), "max_width": max_width, "max_height": max_height},
        time_limit_s=30,
        memory_limit_mb=IMAGE_MEMORY_MB,
    )
    if "crash" in result:
        raise ImageRefused(f"The file could not be read as an image ({result['crash']}).")
    if "refused" in result:
        raise ImageRefused(f"The file is {result['refused']}.")
    return result


def pdf_page_counts(paths: list[str | Path], *, time_limit_s: float = 120) -> list[int]:
    """The page count of each PDF, read in one sandboxed child; raises PdfUnreadable naming the first
    file that cannot be read."""
    if not paths:
        return []
    result = _run(
        PAGES_TARGET,
        {"paths": [str(p) for p in paths]},
        time_limit_s=time_limit_s,
        memory_limit_mb=PAGES_MEMORY_MB,
    )
    if "crash" in result:
        raise PdfUnreadable(f"The camera-ready PDFs could not be read: {result['crash']}.")
    counts = []
    for path, row in zip(paths, result["counts"], strict=True):
        if "error" in row:
            raise PdfUnreadable(f"{Path(path).name}: {row['error']}")
        counts.append(row["pages"])
    return counts
