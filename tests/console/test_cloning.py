"""Cloning an edition through the console: what is copied, what is not, dates moved exactly by the
offset, the committee invited again; the form's errors and its confirmation page."""

import datetime as dt

import pytest
from django.test import Client

from challenges.finalphase.models import FinalPhaseSettings, ModelSubmission
from challenges.models import Challenge, DataFile, Registration, Submission, Team
from conference.models import ImportantDate, Membership, OutgoingMail, Paper, Workshop
from conference.reviewing.models import Invitation, ReviewSettings
from console.services.cloning import edition_clone
from tests.console.conftest import PACIFIC, pacific
from tests.html import element, text

pytestmark = pytest.mark.django_db

OFFSET = 364  # a year later, same weekday


def _wall(instant: dt.datetime) -> dt.datetime:
    """The instant on the workshop's wall clock (Pacific), as a chair reads it."""
    return instant.astimezone(PACIFIC).replace(tzinfo=None)


def _clone(source, **kw):
    return edition_clone(
        source=source["workshop"],
        name="Mobile AI Workshop 2022",
        short_name="MAI 2022",
        slug="mai-2022",
        day_offset=kw.pop("day_offset", OFFSET),
        reinvite_committee=kw.pop("reinvite_committee", False),
        by=source["users"]["chair"],
    )


def test_clone_copies_settings_topics_dates_and_tracks_with_dates_shifted_exactly(source):
    old = source["workshop"]
    result = _clone(source)
    new = Workshop.objects.get(slug="mai-2022")
    assert result.workshop == new
    assert (new.name, new.short_name, new.time_zone) == ("Mobile AI Workshop 2022", "MAI 2022", old.time_zone)
    assert (new.page_limit, new.dual_submission_policy, new.call_for_papers) == (
        8,
        "allowed only with CVPR 2021",
        "## Scope\n\nEfficient deep learning on phones.",
    )
    assert (new.start_date, new.end_date) == (dt.date(2022, 6, 24), dt.date(2022, 6, 24))
    assert list(new.topics.values_list("name", flat=True)) == [
        "Quantization",
        "Super-resolution",
        "Depth estimation",
    ]
    assert list(new.organisers.values_list("name", flat=True)) == ["Andrey Ignatov", "Radu Timofte"]
    old_dates = {kind: _wall(at) for kind, at in old.dates.values_list("kind", "at")}
    new_dates = {kind: _wall(at) for kind, at in new.dates.values_list("kind", "at")}
    assert new_dates == {kind: at + dt.timedelta(days=OFFSET) for kind, at in old_dates.items()}
    deadline = new.dates.get(kind=ImportantDate.Kind.PAPER_DEADLINE).at
    assert deadline == dt.datetime(2022, 3, 15, 0, 0, tzinfo=dt.UTC)  # Mon 14 March 2022, 5pm PDT
    assert ReviewSettings.objects.get(workshop=new).review_deadline == (
        ReviewSettings.objects.get(workshop=old).review_deadline + dt.timedelta(days=OFFSET)
    )

    track = Challenge.objects.get(workshop=new)
    original = source["track"]
    for name in (
        "slug",
        "title",
        "target_platform",
        "terms",
        "input_shape",
        "output_shape",
        "int8_required",
        "metrics",
        "score_formula",
        "submissions_per_day",
        "submissions_total",
    ):
        assert getattr(track, name) == getattr(original, name), name
    assert list(track.organisers.all()) == [source["users"]["organiser"]]
    assert {kind: _wall(at) for kind, at in track.milestones.values_list("kind", "at")} == {
        kind: _wall(at) + dt.timedelta(days=OFFSET)
        for kind, at in original.milestones.values_list("kind", "at")
    }
    final = FinalPhaseSettings.objects.get(challenge=track)
    assert (final.score_formula, final.constants, final.timed_runs, final.device_slug) == (
        "2 ** (2 * psnr) / (C * runtime_ms)",
        {"C": 2.5},
        7,
        "dimensity-1000",
    )
    # Data: the link is copied, the uploaded file's contents are not.
    assert list(DataFile.objects.filter(challenge=track).values_list("title", "external_url", "file")) == [
        ("Validation inputs (link)", "https://data.example.org/val.zip", "")
    ]
    assert (result.external_data_files, result.uploaded_data_files_left) == (1, 1)


def test_clone_leaves_papers_submissions_teams_registrations_and_committee_behind(source):
    _clone(source)
    new = Workshop.objects.get(slug="mai-2022")
    assert Paper.objects.filter(workshop=new).count() == 0
    assert Team.objects.filter(challenge__workshop=new).count() == 0
    assert Submission.objects.filter(challenge__workshop=new).count() == 0
    assert ModelSubmission.objects.filter(challenge__workshop=new).count() == 0
    assert Registration.objects.filter(challenge__workshop=new).count() == 0
    # Only the chair who cloned is a member; nobody is invited unless asked.
    assert list(Membership.objects.filter(workshop=new).values_list("user__email", "role")) == [
        ("chair@chairs.edu", "chair")
    ]
    assert Invitation.objects.filter(workshop=new).count() == 0
    # The source is untouched.
    old = source["workshop"]
    assert (
        Paper.objects.filter(workshop=old).count(),
        Team.objects.filter(challenge__workshop=old).count(),
    ) == (1, 1)
    assert old.dates.get(kind="paper_deadline").at.astimezone(old.zone).date() == dt.date(2021, 3, 15)


def test_clone_can_invite_the_committee_again_with_new_single_use_invitations(source):
    result = _clone(source, reinvite_committee=True)
    new = result.workshop
    invited = sorted(Invitation.objects.filter(workshop=new).values_list("email", "role", "state"))
    assert invited == [
        ("cochair@chairs.edu", "chair", "pending"),
        ("rita@reviewers.edu", "reviewer", "pending"),
    ]
    assert result.invitations == 2
    subjects = sorted(
        OutgoingMail.objects.filter(to__contains=["rita@reviewers.edu"]).values_list("subject", flat=True)
    )
    assert subjects == ["[MAI 2022] Invitation to serve as reviewer"]
    # Invitations are the new edition's own: nobody is a member before accepting.
    assert not Membership.objects.filter(workshop=new, user=source["users"]["reviewer"]).exists()


def test_clone_form_previews_counts_then_creates_on_confirmation(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    form = {
        "source": source["workshop"].pk,
        "name": "Mobile AI Workshop 2022",
        "short_name": "MAI 2022",
        "slug": "mai-2022",
        "day_offset": "364",
        "reinvite_committee": "on",
    }
    page = client.post("/console/clone/", form)
    assert page.status_code == 200
    assert not Workshop.objects.filter(slug="mai-2022").exists()  # nothing before the confirmation
    assert text(page, id="clone-tracks") == "1"
    assert text(page, id="clone-dates") == "5"
    assert text(page, id="clone-milestones") == "8"
    assert text(page, id="clone-papers-left") == "1"
    assert text(page, id="clone-teams-left") == "1"
    assert text(page, id="clone-invitations") == "2"
    payload = element(page, "input", name="payload").attrs["value"]
    done = client.post("/console/clone/", {"action": "confirm", "payload": payload})
    assert done.status_code == 302 and done["Location"] == "/mai-2022/manage/"
    assert Workshop.objects.get(slug="mai-2022").challenges.count() == 1
    # A replayed confirmation does not clone twice: the address is taken now.
    again = client.post("/console/clone/", {"action": "confirm", "payload": payload}, follow=True)
    assert Workshop.objects.filter(slug="mai-2022").count() == 1
    assert "already taken" in text(again, "div", **{"class": "messages"})


def test_clone_form_refuses_a_taken_address_and_a_tampered_confirmation(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    page = client.post(
        "/console/clone/",
        {
            "source": source["workshop"].pk,
            "name": "X",
            "short_name": "X",
            "slug": "mai-2021",
            "day_offset": "7",
        },
    )
    assert "The address /mai-2021/ is already taken by another edition." in text(
        page, id="edition-clone-form"
    )
    bad = client.post("/console/clone/", {"action": "confirm", "payload": "x:y:z"}, follow=True)
    assert "too old or was altered" in text(bad, "div", **{"class": "messages"})
    assert Workshop.objects.count() == 1


def test_a_chair_clones_only_editions_they_chair(source, make_user):
    other = Workshop.objects.create(
        slug="other-ws",
        name="Other",
        short_name="OTH",
        host_conference="X",
        start_date=dt.date(2030, 1, 1),
        end_date=dt.date(2030, 1, 1),
    )
    client = Client()
    client.force_login(source["users"]["chair"])
    page = client.post(
        "/console/clone/",
        {"source": other.pk, "name": "X", "short_name": "X", "slug": "x-new", "day_offset": "7"},
    )
    assert "Select a valid choice" in text(page, id="edition-clone-form")
    assert not Workshop.objects.filter(slug="x-new").exists()


def test_a_shift_across_a_clock_change_keeps_5pm_pacific(source):
    """7 days after Wed 10 March 2021, 5pm PST is Wed 17 March, 5pm PDT: 6 days 23 hours later."""
    ws = source["workshop"]
    ImportantDate.objects.create(workshop=ws, kind="other", label="Webinar", at=pacific(2021, 3, 10))
    new = _clone(source, day_offset=7).workshop
    webinar = new.dates.get(label="Webinar").at
    assert webinar == dt.datetime(2021, 3, 18, 0, 0, tzinfo=dt.UTC)
    assert _wall(webinar) == dt.datetime(2021, 3, 17, 17, 0)
    final = Challenge.objects.get(workshop=new).milestones.get(kind="final_deadline").at
    assert _wall(final) == dt.datetime(2021, 3, 27, 17, 0)
