"""The anonymised copy of a paper's supplementary material that reviewers get, made in the sandbox
(`conference.reviewing.supplementary:anonymise`, which never imports Django) on first use and kept:
a refusal or a crash is kept too (as the copy's error); a time-out is not (the next request tries
again)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File

from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed
from conference.models import Paper
from conference.selectors import paper_current_version

from ..models import SupplementaryCopy


def _anonymise_in_sandbox(source: Path, destination: Path, kind: str) -> tuple[dict, str]:
    """(report, error) of the sandboxed anonymiser; error is "" when the copy was written."""
    try:
        report, _log = run_sandboxed(
            "conference.reviewing.supplementary:anonymise",
            {"source": str(source), "destination": str(destination), "kind": kind},
            time_limit_s=float(settings.SUPPLEMENTARY_TIME_LIMIT_S),
            memory_limit_mb=int(settings.SUPPLEMENTARY_MEMORY_MB),
        )
    except SandboxTimeout as exc:
        raise ValidationError(
            "The supplementary material is still being prepared (it took too long); try again shortly."
        ) from exc
    except SandboxError as exc:
        error = (
            exc.message
            if exc.error_type == "SupplementaryRefused"
            else f"The supplementary material could not be read ({exc.error_type})."
        )
        return {}, error
    except SandboxCrash as exc:
        return {}, f"The supplementary material could not be read (the reader died: {exc.signal_name})."
    return report, ""


def supplementary_for_reviewers(*, paper: Paper) -> SupplementaryCopy | None:
    """The anonymised supplementary material of the paper's current version (a `SupplementaryCopy`
    with `file` or `error`), made in the sandbox on first use and kept; None when there is none.
    A time-out is not kept (the next request tries again); a refusal or a crash is."""
    version = paper_current_version(paper=paper)
    if version is None or not version.supplementary:
        return None
    source_name = version.supplementary.name
    copy = SupplementaryCopy.objects.filter(version=version, source_name=source_name).first()
    if copy is not None:
        return copy
    kind = "zip" if source_name.lower().endswith(".zip") else "pdf"
    with tempfile.TemporaryDirectory(prefix="mai-supplementary-") as tmp:
        source, destination = Path(tmp) / f"in.{kind}", Path(tmp) / f"out.{kind}"
        with version.supplementary.open("rb") as handle, open(source, "wb") as out:
            shutil.copyfileobj(handle, out, 1024 * 1024)
        report, error = _anonymise_in_sandbox(source, destination, kind)
        copy, _ = SupplementaryCopy.objects.update_or_create(
            version=version, defaults={"source_name": source_name, "report": report, "error": error[:2000]}
        )
        if not error:
            with open(destination, "rb") as handle:
                copy.file.save(f"paper-{paper.number}-supplementary.{kind}", File(handle), save=True)
    return copy
