"""What users type, read into what the API takes: tracks (`mai-2021/image-denoising`), papers
(`mai-2021/12`), input shapes (`1x480x720x3`) and authors (`Ada Lovelace <ada@uni.example>, Uni`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import click

SLUG = r"[-a-zA-Z0-9_]+"
TRACK = re.compile(rf"^/?(?P<workshop>{SLUG})/(?:challenges/)?(?P<challenge>{SLUG})/?$")
PAPER = re.compile(rf"^/?(?P<workshop>{SLUG})/(?:papers/)?#?(?P<number>\d+)/?$")
SHAPE = re.compile(r"^\d+([x×]\d+)*$")
AUTHOR = re.compile(
    r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*(?:,\s*(?P<affiliation>.*\S))?\s*$"
)


@dataclass(frozen=True)
class Track:
    """A challenge track as the site names it: the edition's slug and the challenge's slug, as in
    the page's address `/<workshop>/challenges/<challenge>/`."""

    workshop: str
    challenge: str

    def __str__(self) -> str:
        return f"{self.workshop}/{self.challenge}"

    @property
    def api(self) -> str:
        return f"/api/challenges/{self.workshop}/{self.challenge}/"

    @property
    def final_api(self) -> str:
        return f"/api/final/{self.workshop}/{self.challenge}/"


@dataclass(frozen=True)
class PaperRef:
    workshop: str
    number: int

    def __str__(self) -> str:
        return f"{self.workshop}/{self.number}"

    @property
    def api(self) -> str:
        return f"/api/conference/papers/{self.workshop}/{self.number}/"


def parse_track(text: str) -> Track:
    """`WORKSHOP/CHALLENGE` (e.g. `mai-2021/image-denoising`); a pasted page path such as
    `/mai-2021/challenges/image-denoising/` works too."""
    match = TRACK.match(text.strip())
    if not match:
        raise click.BadParameter(
            f"“{text}” is not a track: write WORKSHOP/CHALLENGE, e.g. mai-2021/image-denoising "
            "(`mai challenges` lists them)."
        )
    return Track(match["workshop"], match["challenge"])


def parse_paper(text: str) -> PaperRef:
    match = PAPER.match(text.strip())
    if not match:
        raise click.BadParameter(
            f"“{text}” is not a paper: write WORKSHOP/NUMBER, e.g. mai-2021/12 (`mai papers` lists yours)."
        )
    return PaperRef(match["workshop"], int(match["number"]))


def parse_shape(text: str) -> str:
    """`1x480x720x3` (or `1×480×720×3`; several inputs separated by `;`) → the API's form."""
    parts = [part.strip().replace(" ", "") for part in text.split(";")]
    if not text.strip() or not all(SHAPE.match(part) for part in parts):
        raise click.BadParameter(
            f"“{text}” is not a shape: write the dimensions separated by x, e.g. 1x480x720x3 "
            "(several inputs separated by ;)."
        )
    return ";".join(part.replace("×", "x") for part in parts)


def parse_author(text: str) -> dict:
    """`Name <email>[, Affiliation]` → {"name", "email", "affiliation"}."""
    match = AUTHOR.match(text)
    if not match:
        raise click.BadParameter(
            f'“{text}” is not an author: write "Name <email>, Affiliation", e.g. '
            '"Ada Lovelace <ada@uni.example>, University of Examples".'
        )
    return {"name": match["name"], "email": match["email"], "affiliation": match["affiliation"] or ""}


class ParsedType(click.ParamType):
    """A click parameter type over one of the `parse_*` functions above: its message becomes click's
    usage error; a value already parsed (of type `parsed`, e.g. a default) is passed through."""

    def __init__(self, name: str, parse, parsed: type | None = None):
        self.name = name
        self.parse = parse
        self.parsed = parsed

    def convert(self, value, param, ctx):
        if self.parsed is not None and isinstance(value, self.parsed):
            return value
        try:
            return self.parse(value)
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


TRACK_TYPE = ParsedType("TRACK", parse_track, Track)
PAPER_TYPE = ParsedType("PAPER", parse_paper, PaperRef)
SHAPE_TYPE = ParsedType("SHAPE", parse_shape)
AUTHOR_TYPE = ParsedType("AUTHOR", parse_author, dict)
