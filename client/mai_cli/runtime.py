"""Runtime commands: measure a model on a device, follow jobs, list devices; operators pause, drain and
resume devices."""

from __future__ import annotations

from pathlib import Path

import click

from .api import ApiClient, Upload
from .base import (
    EXISTING_FILE,
    MaiGroup,
    exit_failed,
    json_option,
    print_plain,
    upload_files,
    wait_options,
    with_client,
)
from .output import LiveStatus, emit, emit_table, fmt_number, fmt_size, fmt_time, key_values, table
from .parsing import SHAPE_TYPE

JOB_DONE = {"done", "failed"}


def _job_line(job: dict) -> str:
    state = job.get("state")
    device = job.get("device")
    if state == "queued":
        position = job.get("queue_position")
        where = f"position {position} in the queue of {device}" if position else f"queued for {device}"
        return f"Job {job.get('uid')}: {where}"
    if state == "running":
        return f"Job {job.get('uid')}: running on {device} ({job.get('accelerator')})"
    return f"Job {job.get('uid')}: {state}"


def _show_job(console, job: dict) -> None:
    console.print(
        key_values(
            None,
            [
                ("Job", job.get("uid")),
                ("Model", f"{job.get('model_name')} ({fmt_size(job.get('model_size'))})"),
                ("Device", f"{job.get('device')} ({job.get('accelerator')})"),
                ("Input shape", job.get("input_shape")),
                ("State", job.get("state")),
                *([("Queue position", job.get("queue_position"))] if job.get("state") == "queued" else []),
                ("Submitted", fmt_time(job.get("created_at"))),
                ("Finished", fmt_time(job.get("finished_at"))),
                ("Page", job.get("url")),
            ],
        )
    )
    if job.get("error_message"):
        print_plain(console, f"Error: {job['error_message']}")
    if job.get("state") == "done":
        rows = [
            ("Initialisation", fmt_number(job.get("init_ms")), "ms"),
            ("First inference", fmt_number(job.get("first_inference_ms")), "ms"),
            ("Mean", fmt_number(job.get("mean_ms")), "ms"),
            ("Median", fmt_number(job.get("median_ms")), "ms"),
            ("Std deviation", fmt_number(job.get("std_ms")), "ms"),
            ("Min", fmt_number(job.get("min_ms")), "ms"),
            ("Max", fmt_number(job.get("max_ms")), "ms"),
            ("Peak memory", fmt_number(job.get("peak_memory_mb"), 1), "MB"),
            ("Timed runs", fmt_number(job.get("runs")), ""),
            ("Fully delegated", fmt_number(job.get("fully_delegated")), ""),
            ("Runtime", job.get("runtime_version"), ""),
        ]
        console.print(table("Results", ["Measure", "Value", "Unit"], rows, right=["Value"]))


@click.command()
@click.argument("model", type=EXISTING_FILE)
@click.option("--device", "-d", required=True, help="A device slug (`mai devices` lists them).")
@click.option(
    "--accelerator", "-a", required=True, help="One of the device's accelerators, e.g. cpu, gpu, nnapi."
)
@click.option("--shape", type=SHAPE_TYPE, help="Run free input dimensions at this shape, e.g. 1x480x720x3.")
@click.option("--threads", type=click.IntRange(1, 8), help="CPU threads the runtime may use.")
@click.option("--warmup-runs", type=click.IntRange(1, 100), help="Untimed runs before the timed ones.")
@click.option(
    "--runs", "timed_runs", type=click.IntRange(1, 1000), help="Timed runs (mean, median… over these)."
)
@wait_options
@json_option
@with_client
def runtime(
    api: ApiClient,
    model: Path,
    device: str,
    accelerator: str,
    shape: str | None,
    threads: int | None,
    warmup_runs: int | None,
    timed_runs: int | None,
    wait: bool,
    timeout_s: float,
    as_json: bool,
):
    """Measure a .tflite model's runtime on a device, without making a submission."""
    form = {
        "device": device,
        "accelerator": accelerator,
        "input_shape": shape,
        "threads": None if threads is None else str(threads),
        "warmup_runs": None if warmup_runs is None else str(warmup_runs),
        "timed_runs": None if timed_runs is None else str(timed_runs),
    }
    job = upload_files(api, "/api/evaluation/jobs/", [Upload("model", model)], form, model.name)
    if wait:
        with LiveStatus() as live:
            live.update(_job_line(job))
            job = api.poll(
                f"/api/evaluation/jobs/{job['uid']}/",
                finished=lambda j: j.get("state") in JOB_DONE,
                on_update=lambda j: live.update(_job_line(j)),
                timeout_s=timeout_s,
                what=f"Job {job['uid']}",
            )
    emit(job, as_json, lambda c: _show_job(c, job))
    if job.get("state") == "failed":
        exit_failed(f"Job {job.get('uid')}", job.get("error_message"), as_json=as_json)


@click.command()
@click.argument("uid")
@wait_options
@json_option
@with_client
def job(api: ApiClient, uid: str, wait: bool, timeout_s: float, as_json: bool):
    """One runtime job: state, queue position, results (--wait: until it has finished)."""
    path = f"/api/evaluation/jobs/{uid}/"
    data = api.get(path)
    if wait and data.get("state") not in JOB_DONE:
        with LiveStatus() as live:
            data = api.poll(
                path,
                finished=lambda j: j.get("state") in JOB_DONE,
                on_update=lambda j: live.update(_job_line(j)),
                timeout_s=timeout_s,
                what=f"Job {uid}",
            )
    emit(data, as_json, lambda c: _show_job(c, data))
    if data.get("state") == "failed":
        exit_failed(f"Job {data.get('uid')}", data.get("error_message"), as_json=as_json)


@click.command()
@json_option
@with_client
def devices(api: ApiClient, as_json: bool):
    """The devices that measure runtime, their accelerators, status and queue."""
    rows = api.get("/api/evaluation/devices/")
    emit_table(
        rows,
        as_json,
        ["Device", "Name", "SoC", "Accelerators", "Status", "Operator", "Queue", "Last seen"],
        (
            (
                d.get("slug"),
                d.get("name"),
                d.get("soc"),
                ", ".join(d.get("accelerators") or []),
                d.get("status"),
                d.get("operator_state", ""),
                d.get("queue_length"),
                fmt_time(d.get("last_heartbeat")),
            )
            for d in rows
        ),
        right=["Queue"],
    )


@click.command()
@json_option
@with_client
def jobs(api: ApiClient, as_json: bool):
    """Your runtime jobs, newest first."""
    rows = api.get("/api/evaluation/jobs/")
    emit_table(
        rows,
        as_json,
        ["Job", "Model", "Device", "Accelerator", "State", "Median (ms)", "Submitted"],
        (
            (
                j.get("uid"),
                j.get("model_name"),
                j.get("device"),
                j.get("accelerator"),
                j.get("state"),
                fmt_number(j.get("median_ms")),
                fmt_time(j.get("created_at")),
            )
            for j in rows
        ),
        right=["Median (ms)"],
    )


# --- operators -------------------------------------------------------------------------------------


@click.group(cls=MaiGroup)
def device():
    """Operators: pause, drain or resume a device."""


OPERATOR_STATES = {
    "active": "takes jobs",
    "paused": "takes no new job",
    "draining": "runs the jobs already queued, then pauses",
}


def _device_action(action: str, past: str):
    @click.argument("slug")
    @json_option
    @with_client
    def command(api: ApiClient, slug: str, as_json: bool):
        data = api.post(f"/api/evaluation/devices/{slug}/{action}/")
        state = (data or {}).get("operator_state", past)
        meaning = OPERATOR_STATES.get(state)
        emit(
            data,
            as_json,
            lambda c: print_plain(c, f"{slug}: {state}" + (f" ({meaning})." if meaning else ".")),
        )

    return command


device.command("pause", help="Take no new job on the device (a running job finishes).")(
    _device_action("pause", "paused")
)
device.command("drain", help="Run the jobs already queued for the device, take no new one, then pause.")(
    _device_action("drain", "draining")
)
device.command("resume", help="Take jobs again.")(_device_action("resume", "active"))
