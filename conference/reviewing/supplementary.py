"""Anonymising supplementary material for reviewers; runs inside the sandbox (no Django here).

`anonymise({"source": path, "destination": path, "kind": "pdf" | "zip"}) -> report` writes the copy
reviewers get, served as `paper-<n>-supplementary.<ext>`:

- PDF: the same pages without document information, XMP metadata or piece info (the paper's own
  review-copy writer, `conference.pdfcheck.make_review_copy`).
- ZIP: re-packed, not merely renamed. A zip carries identity outside its members' bytes: the archive
  comment and per-member comments, extra fields (Unix uid/gid, NTFS and extended timestamps, the
  packer's time zone), and macOS's `__MACOSX/` AppleDouble files and `.DS_Store` (Finder metadata,
  "where from" download URLs, user names). Each member is copied, streamed, into a fresh archive with
  a fixed 1980-01-01 timestamp, plain permissions, no comment and no extra field; those macOS metadata
  files are dropped; PDFs inside are rewritten like a top-level PDF (left as they are, and listed, if
  pypdf cannot read them). Refused outright: encrypted members, absolute or `..` paths, more than
  `MAX_MEMBERS` members or more than `MAX_TOTAL_BYTES` expanded (a zip bomb is stopped while being
  read, whatever the headers declare). Member names are kept: they are the authors' own structure.
"""

from __future__ import annotations

import os
import tempfile
import zipfile

MAX_MEMBERS = 20_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_PDF_MEMBER_BYTES = 200 * 1024**2
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
CHUNK = 1024 * 1024


class SupplementaryRefused(ValueError):
    """The archive cannot be made safe to hand to reviewers; the message says why."""


def _macos_metadata(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1] in (".DS_Store", "Thumbs.db") or parts[-1].startswith("._")


def _strip_pdf_bytes(data: bytes) -> bytes | None:
    # Imported here: a slow import (pypdf and the PDF checks) that only PDFs need, in the sandbox child.
    from conference.pdfcheck import make_review_copy

    with tempfile.TemporaryDirectory() as tmp:
        source, copy = os.path.join(tmp, "in.pdf"), os.path.join(tmp, "out.pdf")
        with open(source, "wb") as handle:
            handle.write(data)
        try:
            make_review_copy(source, copy)
        except Exception:  # noqa: BLE001 — any pypdf failure: keep the member as it is, and say so
            return None
        with open(copy, "rb") as handle:
            return handle.read()


def _repack_zip(source: str, destination: str) -> dict:
    kept, dropped, pdfs_stripped, pdfs_unreadable, total = 0, [], 0, [], 0
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise SupplementaryRefused(
            f"The supplementary material is not a readable ZIP archive ({exc})."
        ) from None
    with archive, zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as out:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SupplementaryRefused(f"The archive has {len(infos)} members (at most {MAX_MEMBERS}).")
        for info in infos:
            name = info.filename.replace("\\", "/")
            if name.startswith("/") or ".." in name.split("/") or (len(name) > 1 and name[1] == ":"):
                raise SupplementaryRefused(f"The archive holds an unsafe path: {name}")
            if info.flag_bits & 0x1:
                raise SupplementaryRefused(f"The archive member {name} is encrypted.")
            if _macos_metadata(name):
                dropped.append(name)
                continue
            if info.is_dir():
                continue  # directories come back implicitly from their members' paths
            clean = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            clean.compress_type = zipfile.ZIP_DEFLATED
            clean.external_attr = 0o644 << 16
            clean.create_system = 3  # Unix, so the permissions above mean what they say
            with archive.open(info) as member:
                if name.lower().endswith(".pdf") and info.file_size <= MAX_PDF_MEMBER_BYTES:
                    data = member.read(MAX_PDF_MEMBER_BYTES + 1)
                    if len(data) > MAX_PDF_MEMBER_BYTES:
                        raise SupplementaryRefused(
                            f"The archive member {name} is larger than its header says."
                        )
                    total += len(data)
                    stripped = _strip_pdf_bytes(data)
                    if stripped is None:
                        pdfs_unreadable.append(name)
                    else:
                        pdfs_stripped += 1
                    out.writestr(clean, stripped if stripped is not None else data)
                else:
                    with out.open(clean, "w") as target:
                        while chunk := member.read(CHUNK):
                            total += len(chunk)
                            if total > MAX_TOTAL_BYTES:
                                raise SupplementaryRefused(
                                    f"The archive expands to more than {MAX_TOTAL_BYTES // 2**20} MB."
                                )
                            target.write(chunk)
            if total > MAX_TOTAL_BYTES:
                raise SupplementaryRefused(f"The archive expands to more than {MAX_TOTAL_BYTES // 2**20} MB.")
            kept += 1
    return {
        "kind": "zip",
        "members": kept,
        "dropped": dropped[:50],
        "dropped_count": len(dropped),
        "pdfs_stripped": pdfs_stripped,
        "pdfs_unreadable": pdfs_unreadable[:50],
    }


def anonymise(request: dict) -> dict:
    """The sandbox entry point (see the module docstring)."""
    source, destination, kind = request["source"], request["destination"], request["kind"]
    if kind == "pdf":
        from conference.pdfcheck import make_review_copy  # slow import, only for PDFs (see above)

        try:
            make_review_copy(source, destination)
        except Exception as exc:  # noqa: BLE001 — pypdf's many error types, one clear refusal
            raise SupplementaryRefused(
                f"The supplementary PDF cannot be read ({type(exc).__name__})."
            ) from None
        return {"kind": "pdf"}
    if kind == "zip":
        return _repack_zip(source, destination)
    raise SupplementaryRefused(f"Unknown kind of supplementary material: {kind}")
