"""Runs inside the sandbox (`common.sandbox`): merges PDFs — teams' uploaded fact-sheet PDFs among them,
which are untrusted — into one, with a bookmark per part. pypdf only; no Django.

`merge(request)`: request {"parts": [{"title", "path"}], "output": path}. A part that cannot be read,
is encrypted or cannot be written out again is left out and listed in the answer's "unreadable"
(index → reason), so one broken upload never breaks the bundle.
"""

import io


def _pages_of(path: str):
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(path)
    if reader.is_encrypted:
        raise ValueError("it is encrypted")
    pages = list(reader.pages)
    if not pages:
        raise ValueError("it has no pages")
    # Write it alone first: a broken object shows up here, not in the bundle.
    probe = PdfWriter()
    for page in pages:
        probe.add_page(page)
    probe.write(io.BytesIO())
    return pages


def merge(request: dict) -> dict:
    from pypdf import PdfWriter

    writer = PdfWriter()
    unreadable: dict[str, str] = {}
    for index, part in enumerate(request["parts"]):
        try:
            pages = _pages_of(part["path"])
        except Exception as exc:  # noqa: BLE001 - any failure of an untrusted file leaves it out
            unreadable[str(index)] = (str(exc) or type(exc).__name__)[:300]
            continue
        start = len(writer.pages)
        for page in pages:
            writer.add_page(page)
        writer.add_outline_item(part["title"], start)
    with open(request["output"], "wb") as fh:
        writer.write(fh)
    return {"pages": len(writer.pages), "unreadable": unreadable}
