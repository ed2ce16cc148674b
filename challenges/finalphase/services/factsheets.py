"""Fact sheets and code: the team's structured fact sheet (with an optional PDF/LaTeX attachment) and
its code archive or repository, accepted from the final test data's release until the fact-sheet
deadline (plus grace), judged at the request's arrival."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from challenges import timeline
from challenges.models import Challenge, Team
from challenges.selectors import deadline_passed_message, team_for, timeline_for
from conference import pdfcheck

from ..models import CodeSubmission, FactSheet
from ..selectors import code_submission_for_team
from .base import FinalPhaseRefused, read_upload
from .scores import final_settings_get

FACTSHEET_ATTACHMENT_MB = 20
FACTSHEET_ATTACHMENT_MAX_PAGES = 60
ATTACHMENT_TYPES = (".pdf", ".tex", ".zip")
CODE_TYPES = (".zip", ".tar.gz", ".tgz", ".tar", ".7z")


def _factsheet_window(challenge: Challenge, now: dt.datetime) -> None:
    tl = timeline_for(challenge)
    if not timeline.factsheets_open(tl, now):
        closes = tl.at(timeline.K_FACTSHEET_DEADLINE)
        if closes is not None and now >= closes:
            raise FinalPhaseRefused(
                [
                    deadline_passed_message(
                        what="The fact sheet and code deadline",
                        verb="passed",
                        deadline=closes,
                        now=now,
                        workshop=challenge.workshop,
                    )
                ],
                code="closed",
            )
        raise FinalPhaseRefused(
            ["Fact sheets and code are accepted once the final test data is released."], code="closed"
        )


REQUIRED_FACTSHEET = {
    "team_name": "Team name",
    "contact_name": "Contact name",
    "contact_email": "Contact e-mail",
    "method_title": "Method title",
    "method_description": "Method description",
    "architecture_training": "Architecture and training details",
    "training_data_hardware": "Training data and hardware",
}


def factsheet_save(
    *,
    challenge: Challenge,
    user,
    data: dict,
    members: list[dict],
    attachment=None,
    now: dt.datetime | None = None,
) -> FactSheet:
    """Creates or updates the team's fact sheet. `members` is [{"name", "affiliation", "email"}]."""
    now = now or timezone.now()
    team = _team_within_window(challenge=challenge, user=user, now=now)
    errors = [
        f"{label} is required."
        for key, label in REQUIRED_FACTSHEET.items()
        if not str(data.get(key, "")).strip()
    ]
    members, member_errors = _factsheet_members(members)
    links, link_errors = _factsheet_links(data)
    name, attachment_data, attachment_errors = _factsheet_attachment(attachment)
    errors += member_errors + link_errors + attachment_errors
    if errors:
        raise FinalPhaseRefused(errors, code="invalid")
    fields = {key: str(data.get(key, "")).strip() for key in (*REQUIRED_FACTSHEET, "runtime_observations")}
    fields["links"] = "\n".join(links)
    with transaction.atomic():
        sheet = FactSheet.objects.select_for_update().filter(team=team).first() or FactSheet(
            challenge=challenge, team=team
        )
        for key, value in fields.items():
            setattr(sheet, key, value)
        sheet.members = members
        sheet.submitted_by = user
        if attachment_data is not None:
            old = sheet.attachment.name if sheet.attachment else None
            sheet.attachment.save(name[-100:], ContentFile(attachment_data), save=False)
            sheet.attachment_name = name[:255]
            if old:
                transaction.on_commit(lambda: sheet.attachment.storage.delete(old))
        sheet.save()
    return sheet


def _team_within_window(*, challenge: Challenge, user, now: dt.datetime) -> Team:
    team = team_for(user, challenge)
    if team is None:
        raise FinalPhaseRefused(["You are not in a team of this challenge."], code="no_team")
    _factsheet_window(challenge, now)
    return team


def _factsheet_members(members: list[dict]) -> tuple[list[dict], list[str]]:
    """The members as stored (trimmed, empty rows dropped) and what is missing."""
    members = [
        {k: str(m.get(k, "")).strip()[:200] for k in ("name", "affiliation", "email")} for m in members
    ]
    members = [m for m in members if any(m.values())]
    errors = [] if members else ["List at least one team member."]
    for i, m in enumerate(members, start=1):
        if not m["name"] or not m["affiliation"]:
            errors.append(f"Member {i}: name and affiliation are required.")
    return members, errors


def _factsheet_links(data: dict) -> tuple[list[str], list[str]]:
    links = [line.strip() for line in str(data.get("links", "")).splitlines() if line.strip()]
    errors = []
    for link in links:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            errors.append(f"“{link[:80]}” is not a web address (http:// or https://).")
    return links, errors


def _factsheet_attachment(attachment) -> tuple[str, bytes | None, list[str]]:
    """(file name, bytes or None, problems) of the optional attachment."""
    if not attachment:
        return "", None, []
    name = Path(attachment.name).name
    if not name.lower().endswith(ATTACHMENT_TYPES):
        return name, None, ["The attachment must be a PDF, a .tex file or a .zip of the LaTeX sources."]
    data = read_upload(attachment, limit_mb=FACTSHEET_ATTACHMENT_MB, label="attachment")
    return name, data, _pdf_problems(data) if name.lower().endswith(".pdf") else []


def _pdf_problems(data: bytes) -> list[str]:
    """The team's PDF is untrusted: it is opened only in the sandbox (`pdfcheck.quick_inspect_isolated`:
    a PDF, not encrypted, opens, has pages)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        try:
            pdfcheck.quick_inspect_isolated(handle.name, max_pages=FACTSHEET_ATTACHMENT_MAX_PAGES)
        except pdfcheck.PdfRefused as exc:
            return [f"The attachment is not a readable PDF: {exc}"]
    return []


def code_submission_save(
    *, challenge: Challenge, user, archive=None, repository_url: str = "", now: dt.datetime | None = None
) -> CodeSubmission:
    """Stores the team's code archive (size-limited) and/or repository URL; a new archive replaces the
    old one."""
    now = now or timezone.now()
    team = _team_within_window(challenge=challenge, user=user, now=now)
    repository_url = (repository_url or "").strip()
    existing = code_submission_for_team(team=team)
    if not archive and not repository_url and not (existing and existing.archive):
        raise FinalPhaseRefused(["Upload a code archive or give the URL of a repository."], code="empty")
    if repository_url:
        try:
            URLValidator(schemes=["http", "https"])(repository_url)
        except ValidationError as exc:
            raise FinalPhaseRefused(
                [f"“{repository_url[:80]}” is not a web address (http:// or https://)."], code="url"
            ) from exc
    data = None
    if archive:
        name = Path(archive.name).name
        if not name.lower().endswith(CODE_TYPES):
            raise FinalPhaseRefused(
                ["The code archive must be a .zip, .tar, .tar.gz, .tgz or .7z file."], code="type"
            )
        settings = final_settings_get(challenge=challenge)
        data = read_upload(archive, limit_mb=settings.max_code_mb, label="code archive")
    with transaction.atomic():
        code = CodeSubmission.objects.select_for_update().filter(team=team).first() or CodeSubmission(
            challenge=challenge, team=team
        )
        code.repository_url = repository_url
        code.submitted_by = user
        if data is not None:
            old = code.archive.name if code.archive else None
            code.archive.save(name[-100:], ContentFile(data), save=False)
            code.archive_name = name[:255]
            code.archive_size = len(data)
            if old:
                transaction.on_commit(lambda: code.archive.storage.delete(old))
        code.save()
    return code
