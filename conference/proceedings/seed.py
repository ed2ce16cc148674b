"""Demo content of the proceedings app for `manage.py seed_demo`: each demo edition (MAI 2021, the
live edition) gets two invited talks, two industry partners whose logos are drawn here with Pillow and
go through the same sandboxed check as an upload, and a two-session programme on its workshop day
(invited talks, the accepted papers' talks, a challenge session, a break). Idempotent: an edition
that has a programme, talks or partners keeps them."""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from conference.models import Workshop

from . import selectors, services

DEMO_EDITIONS = ["mai-2021", "mai-live"]
TALKS = [
    (
        "Dana Delegate",
        "Mobile Silicon Research",
        "What NPUs want from your network",
        "Which operators map to today's phone NPUs, and how quantization and tiling decide latency.",
        "Dana designs neural accelerators for smartphone SoCs.",
    ),
    (
        "Sam Sensor",
        "Camera Systems Group",
        "Learned ISPs in production",
        "Lessons from shipping a learned image signal processor on hundreds of millions of phones.",
        "Sam leads the camera pipeline team of a phone maker.",
    ),
]
PARTNERS = [
    ("Edge Silicon", "https://example.com/edge-silicon", (18, 94, 170)),
    ("Pixel Foundry", "", (196, 74, 24)),
]


def demo_logo(name: str, color: tuple[int, int, int]) -> bytes:
    """A 480×160 PNG logo: a coloured mark and the partner's name."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (480, 160), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((16, 24, 128, 136), radius=22, fill=color)
    draw.text((56, 62), name[0], fill="white", font=ImageFont.load_default(size=40))
    draw.text((148, 58), name, fill=color, font=ImageFont.load_default(size=40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_demo(*, stdout=None) -> None:
    for workshop in Workshop.objects.filter(slug__in=DEMO_EDITIONS):
        _seed_edition(workshop)
    if stdout:
        stdout.write("Demo programmes, invited talks and partners are in place.")


def _at(workshop: Workshop, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(workshop.start_date, dt.time(hour, minute), tzinfo=workshop.zone)


@transaction.atomic
def _seed_edition(workshop: Workshop) -> None:
    if not selectors.partners(workshop=workshop).exists():
        for order, (name, url, color) in enumerate(PARTNERS):
            logo = SimpleUploadedFile(f"{name}.png", demo_logo(name, color), content_type="image/png")
            services.partner_save(workshop=workshop, name=name, url=url, order=order, logo=logo)
    if not selectors.invited_talks(workshop=workshop).exists():
        for speaker, affiliation, title, abstract, bio in TALKS:
            services.invited_talk_save(
                workshop=workshop,
                speaker=speaker,
                affiliation=affiliation,
                title=title,
                abstract=abstract,
                bio=bio,
            )
    if selectors.programme_sessions(workshop=workshop):
        return
    talks = list(selectors.invited_talks(workshop=workshop))
    papers = list(selectors.accepted_papers(workshop=workshop)[:3])
    first = services.session_save(
        workshop=workshop,
        title="Session 1: Keynote and papers" if papers else "Session 1: Keynote",
        room="Main hall",
        chair_name="Chris Chair",
        starts_at=_at(workshop, 8),
        ends_at=_at(workshop, 10),
    )
    services.slot_save(
        session=first, kind="invited", starts_at=_at(workshop, 8), ends_at=_at(workshop, 8, 45), talk=talks[0]
    )
    start = _at(workshop, 8, 45)
    for paper in papers:
        services.slot_save(
            session=first,
            kind="paper",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=20),
            paper=paper,
        )
        start += dt.timedelta(minutes=20)
    services.slot_save(
        session=first,
        kind="break",
        starts_at=_at(workshop, 9, 45),
        ends_at=_at(workshop, 10),
        title="Coffee break",
    )
    second = services.session_save(
        workshop=workshop,
        title="Session 2: Challenges",
        room="Main hall",
        chair_name="Chris Chair",
        starts_at=_at(workshop, 10, 30),
        ends_at=_at(workshop, 12, 30),
    )
    services.slot_save(
        session=second,
        kind="invited",
        starts_at=_at(workshop, 10, 30),
        ends_at=_at(workshop, 11, 15),
        talk=talks[1],
    )
    challenge = selectors.challenges_of(workshop=workshop).first()
    if challenge is not None:
        services.slot_save(
            session=second,
            kind="challenge",
            starts_at=_at(workshop, 11, 15),
            ends_at=_at(workshop, 12),
            challenge=challenge,
            title=f"{challenge.title}: results and winners",
        )
