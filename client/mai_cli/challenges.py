"""Challenge commands: tracks, leaderboards, validation and final submissions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .api import ApiClient, ApiError, Upload
from .base import (
    EXISTING_FILE,
    MaiGroup,
    exit_failed,
    json_option,
    print_plain,
    say,
    upload_files,
    wait_options,
    with_client,
)
from .output import LiveStatus, emit, emit_table, fmt_number, fmt_size, fmt_time, key_values, table
from .parsing import TRACK_TYPE, Track


@click.command()
@click.option("--workshop", help="Only this edition's tracks (its slug, e.g. mai-2021).")
@json_option
@with_client
def challenges(api: ApiClient, workshop: str | None, as_json: bool):
    """Every challenge track, with the phase open now. The TRACK column is what other commands take."""
    rows = api.get("/api/challenges/", workshop=workshop)
    emit_table(
        rows,
        as_json,
        ["TRACK", "Title", "Target platform", "Open phase"],
        (
            (f"{r['workshop']}/{r['slug']}", r.get("title"), r.get("target_platform"), r.get("phase"))
            for r in rows
        ),
    )


@click.command()
@click.argument("track", type=TRACK_TYPE)
@json_option
@with_client
def challenge(api: ApiClient, track: Track, as_json: bool):
    """One track: contract, metrics, open phase, your team and submissions left."""
    data = api.get(track.api)

    def render(console):
        contract = data.get("contract") or {}
        console.print(
            key_values(
                f"{track}: {data.get('title')}",
                [
                    ("Target platform", data.get("target_platform")),
                    ("Open phase", data.get("phase") or "none"),
                    ("Result format", data.get("result_format")),
                    ("Model contract", ", ".join(f"{k}={v}" for k, v in contract.items())),
                    ("Your team", data.get("team") or "none"),
                    ("Left today", data.get("left_today")),
                    ("Left in total", data.get("left_total")),
                ],
            )
        )
        console.print(
            table(
                "Metrics",
                ["Metric", "Better"],
                [
                    (m.get("label"), "higher" if m.get("higher_is_better") else "lower")
                    for m in data.get("metrics", [])
                ],
            )
        )

    emit(data, as_json, render)


def _metrics(api: ApiClient, track: Track) -> list[dict]:
    return api.get(track.api).get("metrics") or []


def _arrow(higher: bool | None) -> str:
    return " ↑" if higher else (" ↓" if higher is not None else "")


@click.command()
@click.argument("track", type=TRACK_TYPE)
@click.option(
    "--final", is_flag=True, help="The final phase's leaderboard (hidden until results are released)."
)
@click.option("--csv", "as_csv", is_flag=True, help="The site's CSV export, printed as it comes.")
@json_option
@with_client
def leaderboard(api: ApiClient, track: Track, final: bool, as_csv: bool, as_json: bool):
    """A track's leaderboard (validation by default; ↑ higher is better, ↓ lower is better)."""
    base = track.final_api if final else track.api
    if as_csv:
        # The final phase's CSV is its ranked results export.
        sys.stdout.write(api.get_text(base + ("results.csv" if final else "leaderboard.csv")))
        return
    board = api.get(base + "leaderboard/")
    if final:

        def render(console):
            columns = board.get("columns", [])
            console.print(
                table(
                    f"{track}: final leaderboard",
                    [
                        "Rank",
                        "Team",
                        *[c["label"] + _arrow(c.get("higher_is_better")) for c in columns],
                        "Score",
                        "Device",
                        "Note",
                    ],
                    [
                        (
                            r.get("rank") or "",
                            r.get("team"),
                            *[fmt_number((r.get("values") or {}).get(c["key"]), 4) for c in columns],
                            fmt_number(r.get("score"), 4),
                            r.get("device"),
                            r.get("note"),
                        )
                        for r in board.get("rows", [])
                    ],
                    right=["Rank", "Score"],
                )
            )

        emit(board, as_json, render)
        return
    metrics = [] if as_json else _metrics(api, track)

    def render(console):
        console.print(
            table(
                f"{track}: validation leaderboard",
                [
                    "Rank",
                    "Team",
                    *[m["label"] + _arrow(m.get("higher_is_better")) for m in metrics],
                    "Method",
                    "Submitted",
                ],
                [
                    (
                        r.get("rank"),
                        r.get("team"),
                        *[
                            fmt_number((r.get("scores") or {}).get(m["key"]), m.get("precision", 2))
                            for m in metrics
                        ],
                        r.get("method"),
                        fmt_time(r.get("submitted_at")),
                    )
                    for r in board
                ],
                right=["Rank"],
            )
        )

    emit(board, as_json, render)


# --- submissions -----------------------------------------------------------------------------------


@click.group(cls=MaiGroup)
def submit():
    """Submit validation results or a final model."""


VALIDATION_DONE = {"done", "failed"}
VALIDATION_STATUS = {
    "queued": "Queued for scoring",
    "scoring": "Scoring against the hidden ground truth",
    "done": "Scored",
    "failed": "Failed",
}


def _validation_line(sub: dict) -> str:
    status = sub.get("status", "")
    return f"Submission {sub.get('id')}: {VALIDATION_STATUS.get(status, status)}"


def _show_validation(console, sub: dict, metrics: list[dict]) -> None:
    console.print(
        key_values(
            None,
            [
                ("Submission", sub.get("id")),
                ("Team", sub.get("team")),
                ("File", f"{sub.get('original_name')} ({fmt_size(sub.get('size'))})"),
                ("Method", sub.get("method_name")),
                ("Status", VALIDATION_STATUS.get(sub.get("status"), sub.get("status"))),
                ("Submitted", fmt_time(sub.get("created_at"))),
                ("Page", sub.get("url")),
            ],
        )
    )
    if sub.get("error"):
        print_plain(console, f"Error: {sub['error']}")
    scores = sub.get("scores") or {}
    if scores:
        labelled = {m["key"]: m for m in metrics}
        order = [m["key"] for m in metrics if m["key"] in scores] + [k for k in scores if k not in labelled]
        console.print(
            table(
                "Scores",
                ["Metric", "Value", "Better"],
                [
                    (
                        labelled.get(k, {}).get("label", k),
                        fmt_number(scores[k], labelled.get(k, {}).get("precision", 4)),
                        {True: "higher", False: "lower"}.get(labelled.get(k, {}).get("higher_is_better"), ""),
                    )
                    for k in order
                ],
                right=["Value"],
            )
        )


def _wait_validation(api: ApiClient, track: Track, sub: dict, timeout_s: float, as_json: bool) -> dict:
    with LiveStatus() as live:
        return api.poll(
            f"{track.api}submissions/{sub['id']}/",
            finished=lambda s: s.get("status") in VALIDATION_DONE,
            on_update=lambda s: live.update(_validation_line(s)),
            timeout_s=timeout_s,
            what=f"Submission {sub['id']}",
        )


def _finish_validation(api, track, sub, as_json) -> None:
    metrics = _metrics(api, track) if not as_json else []
    emit(sub, as_json, lambda c: _show_validation(c, sub, metrics))
    if sub.get("status") == "failed":
        exit_failed(f"Submission {sub.get('id')}", sub.get("error"), as_json=as_json)


@submit.command("validation")
@click.argument("track", type=TRACK_TYPE)
@click.argument("results", type=EXISTING_FILE)
@click.option("--method-name", default="", help="Shown on the leaderboard.")
@click.option("--method-description", default="", help="A few words on the method.")
@wait_options
@json_option
@with_client
def submit_validation(
    api: ApiClient,
    track: Track,
    results: Path,
    method_name: str,
    method_description: str,
    wait: bool,
    timeout_s: float,
    as_json: bool,
):
    """Send validation results (e.g. results.zip) to be scored against the hidden ground truth."""
    sub = upload_files(
        api,
        f"{track.api}submissions/",
        [Upload("file", results)],
        {"method_name": method_name, "method_description": method_description},
        results.name,
    )
    if wait:
        sub = _wait_validation(api, track, sub, timeout_s, as_json)
    _finish_validation(api, track, sub, as_json)


FINAL_STATUS = {"running": "Measuring", "done": "Done", "failed": "Failed"}


def _final_line(sub: dict) -> str:
    progress = sub.get("fidelity_progress")
    fidelity = sub.get("fidelity_status", "")
    if fidelity == "running" and progress not in (None, ""):
        fidelity = (
            f"running ({fmt_number(progress, 0)} %)"
            if isinstance(progress, (int, float))
            else f"running ({progress})"
        )
    return (
        f"Submission {sub.get('public_id')}: {FINAL_STATUS.get(sub.get('status'), sub.get('status'))} — "
        f"fidelity {fidelity}, runtime {sub.get('runtime_status', '')}"
    )


QUANTITIES = {
    "psnr": "PSNR",
    "ssim": "SSIM",
    "si_rmse": "si-RMSE",
    "rmse": "RMSE",
    "accuracy_top1": "Top-1 accuracy",
    "accuracy_top3": "Top-3 accuracy",
    "runtime_ms": "Runtime (ms)",
    "memory_mb": "Peak memory (MB)",
    "power_w": "Power (W)",
    "score": "Score",
}


def _show_final(console, sub: dict) -> None:
    console.print(
        key_values(
            None,
            [
                ("Submission", sub.get("public_id")),
                ("Team", sub.get("team")),
                ("Method", sub.get("method_name")),
                ("Status", FINAL_STATUS.get(sub.get("status"), sub.get("status"))),
                ("Fidelity", sub.get("fidelity_status")),
                ("Runtime", sub.get("runtime_status")),
                ("Measured on", sub.get("device_name")),
                ("Submitted", fmt_time(sub.get("created_at"))),
            ],
        )
    )
    for key, label in (("error", "Error"), ("fidelity_error", "Fidelity"), ("runtime_error", "Runtime")):
        if sub.get(key):
            print_plain(console, f"{label}: {sub[key]}")
    results = sub.get("results")
    if results:
        console.print(
            table(
                "Results",
                ["Quantity", "Value"],
                [
                    (QUANTITIES.get(k, k), fmt_number(v, 4))
                    for k, v in results.items()
                    if v is not None and k != "score_error"
                ],
                right=["Value"],
            )
        )
    if results and results.get("score_error"):
        print_plain(console, f"Score: {results['score_error']}")
    elif sub.get("status") == "done" and not results:
        print_plain(console, "The numbers stay hidden until the organisers release the results.")


def _final_reason(sub: dict) -> str:
    return "; ".join(str(sub[k]) for k in ("error", "fidelity_error", "runtime_error") if sub.get(k))


def _read_factsheet(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path} is not readable JSON: {exc}", param_hint="--factsheet") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(
            f"{path} must hold a JSON object of fact-sheet fields.", param_hint="--factsheet"
        )
    return data


@submit.command("final")
@click.argument("track", type=TRACK_TYPE)
@click.argument("model", type=EXISTING_FILE)
@click.option(
    "--dynamic",
    type=EXISTING_FILE,
    help="The copy with dynamic input size (None dims), for full-resolution fidelity.",
)
@click.option(
    "--results",
    "results_file",
    type=EXISTING_FILE,
    help="Your results on the test inputs, where the track asks for them.",
)
@click.option(
    "--factsheet", type=EXISTING_FILE, help="Fact sheet as JSON (the fields of the site's fact-sheet form)."
)
@click.option("--method-name", default="", help="Shown with your results.")
@wait_options
@json_option
@with_client
def submit_final(
    api: ApiClient,
    track: Track,
    model: Path,
    dynamic: Path | None,
    results_file: Path | None,
    factsheet: Path | None,
    method_name: str,
    wait: bool,
    timeout_s: float,
    as_json: bool,
):
    """Send the final model (.tflite): it is inspected, then fidelity and runtime are measured."""
    sheet = _read_factsheet(factsheet)  # refused before anything is uploaded
    files = [Upload("model", model)]
    if dynamic:
        files.append(Upload("dynamic_model", dynamic))
    if results_file:
        files.append(Upload("results", results_file))
    what = model.name + (
        f" and {len(files) - 1} more file{'s' if len(files) > 2 else ''}" if len(files) > 1 else ""
    )
    sub = upload_files(api, f"{track.final_api}submissions/", files, {"method_name": method_name}, what)
    sheet_answer = None
    if sheet is not None:
        try:
            sheet_answer = api.request("PUT", f"{track.final_api}factsheet/", json=sheet).json()
        except ApiError as exc:
            raise ApiError(
                f"The model was submitted (submission {sub.get('public_id')}), but the fact sheet was "
                f"refused:\n{exc.message}",
                status=exc.status,
                body=exc.body,
            ) from exc
        say("Fact sheet saved.")
    if wait:
        with LiveStatus() as live:
            sub = api.poll(
                f"{track.final_api}submissions/{sub['public_id']}/",
                finished=lambda s: s.get("status") in ("done", "failed"),
                on_update=lambda s: live.update(_final_line(s)),
                timeout_s=timeout_s,
                what=f"Submission {sub['public_id']}",
            )
    emit(
        {**sub, "factsheet": sheet_answer} if sheet is not None else sub,
        as_json,
        lambda c: _show_final(c, sub),
    )
    if sub.get("status") == "failed":
        exit_failed(f"Submission {sub.get('public_id')}", _final_reason(sub), as_json=as_json)


@click.command()
@click.argument("track", type=TRACK_TYPE)
@click.option("--final", is_flag=True, help="Your team's final-phase model submissions.")
@json_option
@with_client
def submissions(api: ApiClient, track: Track, final: bool, as_json: bool):
    """Your team's submissions to a track, newest first."""
    if final:
        subs = api.get(f"{track.final_api}submissions/")
        emit(
            subs,
            as_json,
            lambda c: c.print(
                table(
                    f"{track}: final submissions",
                    ["Submission", "Method", "Status", "Fidelity", "Runtime", "Score", "Submitted"],
                    [
                        (
                            s.get("public_id"),
                            s.get("method_name"),
                            s.get("status"),
                            s.get("fidelity_status"),
                            s.get("runtime_status"),
                            fmt_number((s.get("results") or {}).get("score"), 4),
                            fmt_time(s.get("created_at")),
                        )
                        for s in subs
                    ],
                )
            ),
        )
        return
    subs = api.get(f"{track.api}submissions/")
    metrics = [] if as_json else _metrics(api, track)
    emit(
        subs,
        as_json,
        lambda c: c.print(
            table(
                f"{track}: validation submissions",
                ["Submission", "File", "Method", "Status", *[m["label"] for m in metrics], "Submitted"],
                [
                    (
                        s.get("id"),
                        s.get("original_name"),
                        s.get("method_name"),
                        s.get("status"),
                        *[
                            fmt_number((s.get("scores") or {}).get(m["key"]), m.get("precision", 2))
                            for m in metrics
                        ],
                        fmt_time(s.get("created_at")),
                    )
                    for s in subs
                ],
            )
        ),
    )


@click.command()
@click.argument("track", type=TRACK_TYPE)
@click.argument("submission_id")
@click.option("--final", is_flag=True, help="A final-phase model submission.")
@wait_options
@json_option
@with_client
def submission(
    api: ApiClient, track: Track, submission_id: str, final: bool, wait: bool, timeout_s: float, as_json: bool
):
    """One submission's status and scores (--wait: until it is scored)."""
    if final:
        path = f"{track.final_api}submissions/{submission_id}/"
        sub = api.get(path)
        if wait:
            with LiveStatus() as live:
                sub = api.poll(
                    path,
                    finished=lambda s: s.get("status") in ("done", "failed"),
                    on_update=lambda s: live.update(_final_line(s)),
                    timeout_s=timeout_s,
                    what=f"Submission {submission_id}",
                )
        emit(sub, as_json, lambda c: _show_final(c, sub))
        if sub.get("status") == "failed":
            exit_failed(f"Submission {sub.get('public_id')}", _final_reason(sub), as_json=as_json)
        return
    sub = api.get(f"{track.api}submissions/{submission_id}/")
    if wait:
        sub = _wait_validation(api, track, sub, timeout_s, as_json)
    _finish_validation(api, track, sub, as_json)
