"""Exports for chairs and organisers: an edition's papers, reviews, decisions and assignments; a track's
ranked final results."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .api import ApiClient
from .base import MaiGroup, json_option, say, with_client
from .output import fmt_size, print_json
from .parsing import TRACK_TYPE, Track

# Every export's --output: the file the download is streamed to (stdout without it).
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file.",
)


@click.group(cls=MaiGroup)
def export():
    """Chairs and organisers: an edition's papers, reviews, decisions and assignments; a track's results.

    Written to stdout, or to a file with --output (streamed)."""


def _export_edition(kind: str):
    @click.argument("workshop")
    @output_option
    @json_option
    @with_client
    def command(api: ApiClient, workshop: str, output: Path | None, as_json: bool):
        fmt = "json" if as_json else "csv"
        path = f"/api/conference/workshops/{workshop}/export/{kind}.{fmt}"
        _export(api, path, output, as_json)

    return command


def _export(api: ApiClient, path: str, output: Path | None, as_json: bool) -> None:
    if output is not None:
        size = api.download(path, output)
        say(f"Wrote {output} ({fmt_size(size)}).")
        if as_json:
            print_json({"file": str(output), "size": size})
        return
    if as_json:
        print_json(api.get(path))
    else:
        sys.stdout.write(api.get_text(path))


export.command("papers", help="Every paper of the edition WORKSHOP (CSV; --json for JSON).")(
    _export_edition("papers")
)
export.command("reviews", help="Every review of the edition WORKSHOP (CSV; --json for JSON).")(
    _export_edition("reviews")
)
export.command("decisions", help="The decisions of the edition WORKSHOP (CSV; --json for JSON).")(
    _export_edition("decisions")
)
export.command("assignments", help="Who reviews which paper in WORKSHOP (CSV; --json for JSON).")(
    _export_edition("assignments")
)


@export.command("results")
@click.argument("track", type=TRACK_TYPE)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "tex"]),
    default="csv",
    show_default=True,
    help="CSV, or the LaTeX table (booktabs) for the challenge report.",
)
@output_option
@json_option
@with_client
def export_results(api: ApiClient, track: Track, fmt: str, output: Path | None, as_json: bool):
    """A track's ranked final results (organisers at once, everyone after their release); --json
    without --output: the final leaderboard as JSON."""
    path = f"{track.final_api}results.{fmt}"
    if output is None and as_json:
        print_json(api.get(f"{track.final_api}leaderboard/"))
        return
    _export(api, path, output, as_json)
