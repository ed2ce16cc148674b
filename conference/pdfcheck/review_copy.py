"""The review copy reviewers get: the same pages, rewritten by pypdf without the metadata that could
name the authors."""

from pathlib import Path


def make_review_copy(source: str | Path, destination: str | Path) -> None:
    """Writes the anonymised copy: the same pages, without document information (Author, Creator,
    Producer, Title…), XMP metadata (document and page level) or the original file identifier."""
    # Slow import, on purpose here: pypdf costs 0.14 CPU-s to import, more than a whole check, and only
    # a passing file needs it (the sandboxed check imports this package for every file).
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(str(source))
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    root = writer.root_object
    for key in ("/Metadata", "/PieceInfo"):
        if NameObject(key) in root:
            del root[NameObject(key)]
    for page in writer.pages:
        for key in ("/Metadata", "/PieceInfo"):
            if NameObject(key) in page:
                del page[NameObject(key)]
    # The clone still holds the detached objects (XMP streams…): drop everything unreachable.
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    with open(destination, "wb") as handle:
        writer.write(handle)
