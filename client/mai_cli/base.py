"""What every `mai` command shares: failures turned into a message and an exit status, `--json`,
`--wait`/`--timeout`, and the API client built from the configuration.

Exit statuses: 0 done; 1 the server refused (its message is printed) or the job or submission failed;
2 bad usage; 3 the site could not be reached; 4 `--wait` ran out of time (the work goes on on the
server). With `--json` the result — or `{"error": …, "status": …}` — is printed to stdout as JSON;
progress and status lines always go to stderr.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click
from rich.text import Text

from . import config
from .api import ApiClient, ApiError, CliFailure, Upload
from .output import print_json, stderr_console, upload_progress

JSON_META = "mai.json"
DEFAULT_WAIT_S = 900.0

EXISTING_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


class MaiGroup(click.Group):
    """Turns every `CliFailure` and configuration problem into a message and an exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CliFailure as exc:
            _fail(ctx, exc.message, exc.exit_code, exc.as_json(), hint=_hint(exc))
        except config.ConfigError as exc:
            _fail(ctx, str(exc), 1, {"error": str(exc), "status": None})


def _hint(exc: CliFailure) -> str:
    if isinstance(exc, ApiError) and exc.status == 401:
        return "Make a new token on the site's API tokens page (/account/tokens/) and run `mai login` again."
    if isinstance(exc, ApiError) and exc.status == 404:
        return "Check the names: `mai challenges`, `mai papers` and `mai devices` list what you may see."
    return ""


def _fail(ctx: click.Context, message: str, code: int, payload: dict, *, hint: str = "") -> None:
    if ctx.meta.get(JSON_META):
        print_json(payload)
    console = stderr_console()
    # Text, not markup: the server's message may hold brackets rich would read as style tags.
    console.print(Text("Error: ", style="bold red") + Text(message), highlight=False, soft_wrap=True)
    if hint:
        console.print(hint, markup=False, highlight=False, soft_wrap=True)
    ctx.exit(code)


def _set_json(ctx: click.Context, param, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


def json_option(func):
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_set_json,
        expose_value=True,
        is_eager=True,
        help='Print the result as JSON (for scripts); errors as {"error", "status"}.',
    )(func)


def wait_options(func):
    func = click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=1),
        default=DEFAULT_WAIT_S,
        show_default=True,
        help="With --wait: give up after this many seconds (exit status 4; the work goes on).",
    )(func)
    return click.option("--wait", is_flag=True, help="Wait until it has finished, showing its status.")(func)


def client() -> ApiClient:
    settings = config.load()
    return ApiClient(settings.url, settings.token, timeout_s=config.http_timeout_s())


def with_client(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with client() as api:
            return func(api, *args, **kwargs)

    return wrapper


def say(text: str) -> None:
    stderr_console().print(text, markup=False, highlight=False, soft_wrap=True)


def print_plain(console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def upload_files(api: ApiClient, path: str, files: list[Upload], data: dict, what: str) -> dict:
    """POSTs the files streamed from disk with a progress bar on stderr; returns the answer's JSON."""
    total = sum(f.size for f in files)
    with upload_progress(total, f"Uploading {what}") as advance:
        return api.upload(path, files=files, data=data, advance=advance)


def exit_failed(what: str, reason: str | None, *, as_json: bool) -> None:
    """Ends a command whose job, submission or check failed: exit status 1; with --json the reason also
    goes to stderr (the table, shown otherwise, already holds it)."""
    if as_json:
        say(f"Error: {what} failed" + (f": {reason}" if reason else "."))
    raise SystemExit(1)
