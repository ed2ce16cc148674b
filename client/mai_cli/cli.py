"""The `mai` command: the group, the account commands (login, logout, whoami) and every other command
added from its module (challenges, runtime, papers, exports). See `base` for exit statuses and `--json`."""

from __future__ import annotations

import sys

import click

from . import __version__, config
from .api import ApiClient
from .base import MaiGroup, json_option, print_plain, with_client
from .challenges import challenge, challenges, leaderboard, submission, submissions, submit
from .exports import export
from .output import emit, key_values, stderr_console, table
from .papers import paper, papers, topics
from .runtime import device, devices, job, jobs, runtime


@click.group(cls=MaiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mai")
def cli():
    """The Mobile AI workshop site from the command line: challenges, submissions, runtime checks on
    real devices, papers, exports and device operations.

    Start with `mai login --url https://SITE --token TOKEN` (make the token on the site's
    "API tokens" page). TRACK is WORKSHOP/CHALLENGE, e.g. mai-2021/image-denoising.
    """


@cli.command()
@click.option(
    "--url", envvar="MAI_URL", required=True, help="The site's address, e.g. https://ai-benchmark.example."
)
@click.option(
    "--token",
    envvar="MAI_TOKEN",
    prompt="API token",
    hide_input=True,
    help="A token from the site's API tokens page (asked for when left out, so it stays out of the shell history).",
)
@json_option
def login(url: str, token: str, as_json: bool):
    """Check a token against the site and keep URL and token in your config file (mode 0600)."""
    url = config.normalise_url(url)
    token = token.strip()
    with ApiClient(url, token, timeout_s=config.http_timeout_s()) as api:
        me = api.get("/api/me/")
    path = config.write_file(url=url, token=token)
    data = {"url": url, "user": me, "config": str(path)}

    def render(console):
        print_plain(console, f"Logged in to {url} as {_who(me)}.")
        print_plain(console, f"Saved to {path} (readable by you only).")

    emit(data, as_json, render)


@cli.command()
@json_option
def logout(as_json: bool):
    """Forget the saved URL and token (the token stays valid until you revoke it on the site)."""
    path = config.config_path()
    removed = config.remove_file(path)
    emit(
        {"removed": removed, "config": str(path)},
        as_json,
        lambda c: print_plain(
            c, f"Removed {path}." if removed else f"Nothing to remove: {path} does not exist."
        ),
    )


def _who(me: dict) -> str:
    name = me.get("name") or ""
    email = me.get("email") or ""
    return f"{name} <{email}>" if name else email


@cli.command()
@json_option
@with_client
def whoami(api: ApiClient, as_json: bool):
    """Who the token acts for, its scope, and your roles per edition."""
    me = api.get("/api/me/")

    def render(console):
        token = me.get("token") or {}
        scope = {"read": "read only", "submit": "read and submit"}.get(token.get("scope"), token.get("scope"))
        console.print(
            key_values(
                None,
                [
                    ("Site", api.url),
                    ("Account", _who(me)),
                    ("Token", f"{token.get('name')} ({scope})" if token else "–"),
                ],
            )
        )
        roles = me.get("roles") or []
        if roles:
            console.print(
                table(
                    "Roles",
                    ["Edition", "Roles"],
                    [
                        (r.get("workshop_title") or r.get("workshop"), ", ".join(r.get("roles", [])))
                        for r in roles
                    ],
                )
            )

    emit(me, as_json, render)


for command in (
    challenges,
    challenge,
    leaderboard,
    submit,
    submissions,
    submission,
    runtime,
    job,
    devices,
    jobs,
    device,
    papers,
    paper,
    topics,
    export,
):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(prog_name="mai")
    except KeyboardInterrupt:
        stderr_console().print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
