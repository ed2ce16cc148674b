"""The demo seed: each demo edition gets a two-session programme, two invited talks and two partners
whose Pillow-drawn logos went through the sandboxed check; seeding again changes nothing."""

import io

from django.core.management import call_command
from PIL import Image

from conference.proceedings.models import InvitedTalk, Partner, ProgrammeSession, Slot
from tests import html


def test_demo_editions_get_a_programme_talks_and_partners(seeded, client):
    mai2021 = seeded["mai-2021"]
    sessions = list(ProgrammeSession.objects.filter(workshop=mai2021))
    # MAI 2021's demo has no accepted paper: its first session does not promise paper talks.
    assert [s.title for s in sessions] == ["Session 1: Keynote", "Session 2: Challenges"]
    live_first = ProgrammeSession.objects.filter(workshop=seeded["mai-live"]).first()
    assert live_first.title == "Session 1: Keynote and papers"  # the live edition has an accepted paper
    assert Slot.objects.filter(session=live_first, kind="paper").count() == 1
    kinds = list(Slot.objects.filter(session__workshop=mai2021).values_list("kind", flat=True))
    assert kinds == ["invited", "break", "invited", "challenge"]
    assert InvitedTalk.objects.filter(workshop=mai2021).count() == 2
    partners = list(Partner.objects.filter(workshop=mai2021))
    assert [p.name for p in partners] == ["Edge Silicon", "Pixel Foundry"]
    with partners[0].logo.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).size == (480, 160)
    page = client.get("/mai-2021/programme/")
    challenge_slot = Slot.objects.get(session__workshop=mai2021, kind="challenge")
    assert html.text(page, data_testid=f"slot-{challenge_slot.pk}").startswith(
        "Fri 25 June 2021, 11:15am Pacific Time"
    )
    call_command("seed_demo", stdout=io.StringIO())
    assert ProgrammeSession.objects.filter(workshop=mai2021).count() == 2
    assert Partner.objects.filter(workshop=mai2021).count() == 2
