"""Reading untrusted result archives (validation submissions), with no database and nothing but the
standard library, so the upload check runs in the sandbox (`common.sandbox`) at little cost.

Every archive is read in memory, never extracted, and refused before reading when it would expand past
`max_uncompressed` (zip bombs), when a member's path is absolute or contains ``..``, or when it holds a
symbolic link; a member whose data is corrupt (a CRC that does not match, a truncated stream, a size
that lies) is the participant's error: "The uploaded zip is corrupt: …". Errors are `ScoringError`
with a message written for the participant.
"""

import io
import posixpath
import zipfile
import zlib

MAX_LISTED = 5
EXTENSIONS = {"images_zip": (".zip",), "npz": (".npz",), "csv": (".csv", ".txt")}
CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, ValueError)


class ScoringError(ValueError):
    """Why the result files cannot be scored, in words for the participant."""


def listing(names) -> str:
    names = sorted(names)
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def open_zip(data: bytes, *, what: str, max_uncompressed: int) -> zipfile.ZipFile:
    if not data:
        raise ScoringError(f"The {what} is empty (0 bytes).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except CORRUPT:
        raise ScoringError(f"The {what} is not a valid zip archive.") from None
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


def is_junk(name: str) -> bool:
    base = posixpath.basename(name)
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith(".") or base == "Thumbs.db"


def members(archive: zipfile.ZipFile, *, what: str) -> dict[str, zipfile.ZipInfo]:
    """Basename → member, for the files of a flat archive or one with a single top folder."""
    files = [i for i in archive.infolist() if not is_junk(i.filename)]
    folders = {posixpath.dirname(i.filename) for i in files}
    if len(folders) > 1:
        raise ScoringError(
            f"The {what} must hold its files at the top level or in one folder, "
            f"not in several ({listing(f or '/' for f in folders)})."
        )
    out: dict[str, zipfile.ZipInfo] = {}
    for info in files:
        base = posixpath.basename(info.filename)
        if base in out:
            raise ScoringError(f"The {what} contains “{base}” twice.")
        out[base] = info
    return out


def compare_names(expected: set[str], got: set[str]) -> None:
    missing, extra = expected - got, got - expected
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} file(s): {listing(missing)}")
    if extra:
        problems.append(f"{len(extra)} unexpected file(s): {listing(extra)}")
    if problems:
        raise ScoringError("The results do not match the inputs: " + "; ".join(problems) + ".")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, what: str) -> bytes:
    """The member's bytes; a CRC mismatch or broken stream is the participant's error."""
    try:
        return archive.read(info)
    except CORRUPT as exc:
        raise ScoringError(f"The {what} is corrupt: {exc}. Create the archive again and resubmit.") from None


def verify_zip(archive: zipfile.ZipFile, *, what: str) -> None:
    """Reads every member to its end (the CRC is checked there), in chunks, keeping nothing."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            with archive.open(info) as stream:
                while stream.read(1 << 20):
                    pass
        except CORRUPT as exc:
            raise ScoringError(
                f"The {what} is corrupt: {exc}. Create the archive again and resubmit."
            ) from None


def check_upload(
    *, result_format: str, name: str, data: bytes, max_bytes: int, max_uncompressed: int
) -> None:
    """The checks done at upload time, before anything is stored: size, extension, and for archives
    their paths, expanded size, listing and every member's CRC."""
    if not data:
        raise ScoringError("The uploaded file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ScoringError(f"The uploaded file is larger than {max_bytes // (1024 * 1024)} MB.")
    extensions = EXTENSIONS[result_format]
    if not name.lower().endswith(extensions):
        raise ScoringError(f"This challenge takes a {' or '.join(extensions)} file, not “{name}”.")
    if result_format in ("images_zip", "npz"):
        what = "uploaded zip" if result_format == "images_zip" else "uploaded .npz"
        archive = open_zip(data, what=what, max_uncompressed=max_uncompressed)
        if result_format == "images_zip" and not members(archive, what=what):
            raise ScoringError("The uploaded zip holds no files.")
        verify_zip(archive, what=what)


def check_upload_child(request: dict) -> dict:
    """In the sandbox: `check_upload` on the file at request["path"]; the refusal, or None."""
    with open(request["path"], "rb") as fh:
        data = fh.read()
    try:
        check_upload(
            result_format=request["result_format"],
            name=request["name"],
            data=data,
            max_bytes=int(request["max_bytes"]),
            max_uncompressed=int(request["max_uncompressed"]),
        )
    except ScoringError as exc:
        return {"refused": str(exc)}
    return {"refused": None}
