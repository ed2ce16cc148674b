"""Paper commands: an author's papers with their PDF check results, submitting and updating one."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import click

from .api import ApiClient, Upload
from .base import EXISTING_FILE, MaiGroup, exit_failed, json_option, wait_options, with_client
from .output import LiveStatus, emit, emit_table, fmt_number, key_values, table, upload_progress
from .parsing import AUTHOR_TYPE, PAPER_TYPE, PaperRef, Track, parse_track

CHECK_STATE = {"pending": "running", "passed": "passed", "failed": "failed"}


def _current_version(p: dict) -> dict:
    versions = p.get("versions") or []  # newest first
    return versions[0] if versions else {}


def _check_summary(version: dict) -> str:
    if not version:
        return "no PDF"
    state = CHECK_STATE.get(version.get("check_state"), version.get("check_state") or "")
    report = version.get("check_report") or {}
    counts = []
    if report.get("error_count"):
        counts.append(f"{report['error_count']} error{'s' if report['error_count'] != 1 else ''}")
    if report.get("warning_count"):
        counts.append(f"{report['warning_count']} warning{'s' if report['warning_count'] != 1 else ''}")
    return f"{state} ({', '.join(counts)})" if counts else state


def _paper_row(p: dict) -> tuple:
    return (
        f"{p.get('workshop')}/{p.get('number')}",
        p.get("title"),
        p.get("kind"),
        p.get("status"),
        _check_summary(_current_version(p)),
        p.get("decision") or "",
    )


def check_findings(report: Any) -> list[tuple[str, str]]:
    """A PDF check report ({"items": [{level, title, message}…], …}) → (level, finding) rows, errors
    first; passed checks left out."""
    items = (report or {}).get("items", []) if isinstance(report, dict) else []
    order = {"error": 0, "warning": 1, "info": 2}
    rows = [
        (
            str(item.get("level", "")),
            f"{item.get('title')}: {item.get('message')}" if item.get("title") else str(item.get("message")),
        )
        for item in items
        if isinstance(item, dict) and item.get("level") != "ok"
    ]
    return sorted(rows, key=lambda row: order.get(row[0], 3))


def _show_paper(console, p: dict) -> None:
    version = _current_version(p)
    authors = p.get("authors") or []
    console.print(
        key_values(
            f"{p.get('workshop')}/{p.get('number')}: {p.get('title')}",
            [
                ("Kind", p.get("kind")),
                ("Status", p.get("status")),
                ("Decision", p.get("decision")),
                ("Topics", "; ".join(str(t.get("name")) for t in p.get("topics") or [])),
                (
                    "Authors",
                    "; ".join(
                        f"{a.get('name')} <{a.get('email')}>"
                        + (f", {a['affiliation']}" if a.get("affiliation") else "")
                        for a in authors
                    ),
                ),
                ("Version", version.get("number")),
                ("Pages", version.get("page_count")),
                ("PDF check", _check_summary(version)),
                ("Editable", fmt_number(p.get("editable"))),
                ("Revision", p.get("revision")),
                ("Page", p.get("url")),
            ],
        )
    )
    findings = check_findings(version.get("check_report"))
    if findings:
        console.print(table("PDF check", ["Level", "Finding"], findings))
    reviews = p.get("reviews") or []
    if reviews:
        console.print(
            table(
                "Reviews",
                ["Reviewer", "Rating", "Confidence", "Strengths", "Weaknesses", "Comments"],
                [
                    (
                        r.get("reviewer"),
                        r.get("rating"),
                        r.get("confidence"),
                        r.get("strengths"),
                        r.get("weaknesses"),
                        r.get("comments_to_authors"),
                    )
                    for r in reviews
                ],
            )
        )


@click.command()
@click.option("--workshop", help="Only this edition's papers.")
@json_option
@with_client
def papers(api: ApiClient, workshop: str | None, as_json: bool):
    """Your papers with their status and PDF check results."""
    rows = api.get("/api/conference/papers/", workshop=workshop)
    emit_table(
        rows,
        as_json,
        ["PAPER", "Title", "Kind", "Status", "PDF check", "Decision"],
        (_paper_row(p) for p in rows),
    )


def _checked(p: dict) -> bool:
    return _current_version(p).get("check_state") not in ("pending", None) or not p.get("versions")


def _finish(api: ApiClient, data: dict, *, wait: bool, timeout_s: float, as_json: bool) -> None:
    """Prints the paper; with --wait, once the PDF check of its current version has finished. A
    refused PDF exits with status 1 (the paper keeps its previous version or stays a draft)."""
    if wait and not _checked(data):
        ref = PaperRef(data["workshop"], int(data["number"]))
        with LiveStatus() as live:
            live.update(f"Paper {ref}: checking the PDF")
            data = api.poll(
                ref.api,
                finished=_checked,
                on_update=lambda p: live.update(
                    f"Paper {ref}: PDF check {_check_summary(_current_version(p))}"
                ),
                timeout_s=timeout_s,
                what=f"The PDF check of paper {ref}",
            )
    emit(data, as_json, lambda c: _show_paper(c, data))
    version = _current_version(data)
    if version.get("check_state") == "failed":
        errors = [f for level, f in check_findings(version.get("check_report")) if level == "error"]
        exit_failed(
            f"The PDF check of paper {data.get('workshop')}/{data.get('number')}",
            "; ".join(errors),
            as_json=as_json,
        )


@click.group(cls=MaiGroup)
def paper():
    """Show, submit or update one of your papers (PAPER is WORKSHOP/NUMBER, e.g. mai-2021/12)."""


@paper.command("show")
@click.argument("ref", metavar="PAPER", type=PAPER_TYPE)
@json_option
@with_client
def paper_show(api: ApiClient, ref: PaperRef, as_json: bool):
    """A paper, its authors and its PDF check report."""
    data = api.get(ref.api)
    emit(data, as_json, lambda c: _show_paper(c, data))


def topics_path(workshop: str) -> str:
    return f"/api/conference/workshops/{workshop}/topics/"


@click.command()
@click.argument("workshop")
@json_option
@with_client
def topics(api: ApiClient, workshop: str, as_json: bool):
    """The topics of an edition's call for papers (WORKSHOP is its slug, e.g. mai-2021): the names
    `mai paper submit --topic` takes."""
    rows = api.get(topics_path(workshop))
    emit(rows, as_json, lambda c: c.print(table(None, ["Topic", "Id"], [(t["name"], t["id"]) for t in rows])))


def topic_ids(api: ApiClient, workshop: str, wanted: tuple[str, ...]) -> list[int]:
    """Topics as the user names them → the ids the API takes, from the edition's list: a topic's full
    name or any part of it that names one topic only (any case), or its id. What names no topic, or
    several, is a usage error that says which topics there are."""
    if not wanted:
        return []
    known = api.get(topics_path(workshop))
    found: list[int] = []
    problems: list[str] = []
    for name in wanted:
        key = name.strip().casefold()
        exact = [t for t in known if t["name"].casefold() == key or str(t["id"]) == key]
        matches = exact or [t for t in known if key and key in t["name"].casefold()]
        if len(matches) == 1:
            if matches[0]["id"] not in found:
                found.append(matches[0]["id"])
        elif matches:
            names = "; ".join(t["name"] for t in matches)
            problems.append(f"{name!r} names several topics of {workshop} ({names}): say which")
        else:
            names = "; ".join(t["name"] for t in known) or "none"
            problems.append(f"{name!r} is not a topic of {workshop} (its topics: {names})")
    if problems:
        raise click.BadParameter(". ".join(problems) + ".", param_hint="--topic")
    return found


def challenge_id(api: ApiClient, workshop: str, text: str | None) -> int | None:
    """A challenge paper's challenge, named as the site names it (its slug, or WORKSHOP/CHALLENGE as
    `mai challenges` lists it) → the id the papers API takes."""
    if not text:
        return None
    track = parse_track(text) if "/" in text else Track(workshop, text.strip())
    if track.workshop != workshop:
        raise click.BadParameter(
            f"{track} is a challenge of {track.workshop}, not of {workshop}.", param_hint="--challenge"
        )
    return int(api.get(track.api)["id"])


def _abstract(text: str | None, path: Path | None) -> str | None:
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    return text


def _paper_form(
    *,
    title,
    abstract,
    topics,
    authors,
    kind=None,
    challenge_id=None,
    dual_submission=None,
    dual_submission_id=None,
    revision=None,
) -> dict[str, str | list[str]]:
    """The multipart fields the API takes; what is None is left out (on update: unchanged)."""
    form: dict[str, str | list[str]] = {}
    for key, value in (
        ("title", title),
        ("abstract", abstract),
        ("kind", kind),
        ("challenge", challenge_id),
        ("dual_submission_id", dual_submission_id),
        ("revision", revision),
    ):
        if value is not None:
            form[key] = str(value)
    if dual_submission is not None:
        form["dual_submission"] = "true" if dual_submission else "false"
    if topics:
        form["topics"] = [str(t) for t in topics]
    if authors:
        form["authors"] = json.dumps(list(authors), ensure_ascii=False)
    return form


def _paper_upload(api: ApiClient, method: str, path: str, form: dict, files: list[Upload]) -> dict:
    total = sum(f.size for f in files)
    with upload_progress(total, "Uploading the paper", enabled=bool(files)) as advance:
        return api.upload(path, files=files, data=form, advance=advance, method=method)


def paper_fields(func):
    options = [
        click.option("--title"),
        click.option("--abstract", help="The abstract (or --abstract-file)."),
        click.option("--abstract-file", type=EXISTING_FILE),
        click.option(
            "--topic",
            "topics",
            multiple=True,
            help="A topic of the call: its name or a part of it naming one topic (`mai topics WORKSHOP` lists them); repeat for several.",
        ),
        click.option(
            "--author",
            "authors",
            type=AUTHOR_TYPE,
            multiple=True,
            help='"Name <email>, Affiliation", in order (repeat for each author).',
        ),
        click.option("--pdf", type=EXISTING_FILE, help="The paper (PDF): checked on upload."),
        click.option("--supplementary", type=EXISTING_FILE, help="Optional supplementary material."),
        click.option(
            "--dual-submission/--no-dual-submission",
            default=None,
            help="Declare a dual submission (allowed only with the CVPR main conference).",
        ),
        click.option("--dual-submission-id", help="The main-conference paper id of a dual submission."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _files(pdf: Path | None, supplementary: Path | None) -> list[Upload]:
    files = []
    if pdf:
        files.append(Upload("pdf", pdf, "application/pdf"))
    if supplementary:
        files.append(Upload("supplementary", supplementary))
    return files


@paper.command("submit")
@click.option("--workshop", required=True, help="The edition's slug, e.g. mai-2021.")
@click.option("--kind", type=click.Choice(["regular", "challenge"]), default="regular", show_default=True)
@click.option(
    "--challenge",
    "challenge_name",
    help="For a challenge paper: its challenge, e.g. image-denoising or mai-2021/image-denoising.",
)
@paper_fields
@wait_options
@json_option
@with_client
def paper_submit(
    api: ApiClient,
    workshop: str,
    kind: str,
    challenge_name: str | None,
    title,
    abstract,
    abstract_file,
    topics,
    authors,
    pdf,
    supplementary,
    dual_submission,
    dual_submission_id,
    wait: bool,
    timeout_s: float,
    as_json: bool,
):
    """Submit a new paper: the PDF is checked on upload, the full check follows (--wait shows its
    report; exit status 1 when the PDF is refused)."""
    missing = [
        name for name, value in (("--title", title), ("--pdf", pdf), ("--author", authors)) if not value
    ]
    abstract = _abstract(abstract, abstract_file)
    if not abstract:
        missing.append("--abstract")
    if missing:
        raise click.UsageError(f"A new paper needs {', '.join(missing)}.")
    form = {"workshop": workshop, "submission_token": str(uuid.uuid4())} | _paper_form(
        title=title,
        abstract=abstract,
        topics=topic_ids(api, workshop, topics),
        authors=authors,
        kind=kind,
        challenge_id=challenge_id(api, workshop, challenge_name),
        dual_submission=dual_submission,
        dual_submission_id=dual_submission_id,
    )
    data = _paper_upload(api, "POST", "/api/conference/papers/", form, _files(pdf, supplementary))
    _finish(api, data, wait=wait, timeout_s=timeout_s, as_json=as_json)


@paper.command("update")
@click.argument("ref", metavar="PAPER", type=PAPER_TYPE)
@click.option(
    "--revision", help="The revision you edit (from `mai paper show --json`); a stale one is refused."
)
@paper_fields
@wait_options
@json_option
@with_client
def paper_update(
    api: ApiClient,
    ref: PaperRef,
    revision,
    title,
    abstract,
    abstract_file,
    topics,
    authors,
    pdf,
    supplementary,
    dual_submission,
    dual_submission_id,
    wait: bool,
    timeout_s: float,
    as_json: bool,
):
    """Change a paper before its deadline: only the fields given change; --pdf uploads a new version
    (--wait: until its check has finished)."""
    form = _paper_form(
        title=title,
        abstract=_abstract(abstract, abstract_file),
        topics=topic_ids(api, ref.workshop, topics),
        authors=authors,
        dual_submission=dual_submission,
        dual_submission_id=dual_submission_id,
        revision=revision,
    )
    files = _files(pdf, supplementary)
    if not form and not files:
        raise click.UsageError("Nothing to change: give at least one of the options (see --help).")
    data = _paper_upload(api, "PATCH", ref.api, form, files)
    _finish(api, data, wait=wait and bool(files), timeout_s=timeout_s, as_json=as_json)
