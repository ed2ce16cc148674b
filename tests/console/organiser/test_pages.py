"""The organiser console's pages: who reaches each one (every role), a crawl from them finding no
server error, and what an organiser sees and does on each (track and metrics, the formula preview,
the contract read from a reference model, milestones typed in Pacific time with the timeline picture,
the dashboard, confirmations)."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from challenges.console import selectors
from challenges.finalphase.models import ModelSubmission
from challenges.models import Challenge, DataFile, Milestone
from conference.models import Membership
from scripts.crawl import LINK
from tests.factories import DataFileFactory, MembershipFactory, RegistrationFactory, TeamFactory
from tests.html import element, table, text

pytestmark = pytest.mark.django_db
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
PAGES = [
    "manage/",
    "manage/track/",
    "manage/track/preview/?scoring-score_formula=psnr",
    "manage/contract/",
    "manage/milestones/",
    "manage/data/",
    "manage/track/delete/",
]


def base(track) -> str:
    return f"/{track.workshop.slug}/challenges/{track.slug}/"


@pytest.fixture
def people(edition, chair, track, make_user):
    """Every kind of person, by role; the other track's organiser manages a sibling track only."""
    participant = make_user(email="participant@uni.example")
    RegistrationFactory(challenge=track, user=participant)
    reviewer = make_user(email="reviewer@uni.example")
    MembershipFactory(workshop=edition, user=reviewer, role=Membership.Role.REVIEWER)
    other = make_user(email="other-organiser@uni.example")
    sibling = Challenge.objects.create(workshop=edition, slug="sibling", title="Sibling")
    sibling.organisers.add(other)
    admin = get_user_model().objects.create_superuser("root", "root@mai.example", "x")
    return {
        "anonymous": None,
        "participant": participant,
        "reviewer": reviewer,
        "other organiser": other,
        "organiser": track.organiser,
        "chair": chair,
        "superuser": admin,
    }


def test_every_page_answers_each_role_as_it_should(people, track, edition):
    # data file delete page needs a file
    data_file = DataFileFactory(challenge=track)
    pages = [*PAGES, f"manage/data/{data_file.pk}/delete/"]
    allowed = {"organiser", "chair", "superuser"}
    for role, user in people.items():
        client = Client()
        if user:
            client.force_login(user)
        for page in pages:
            status = client.get(base(track) + page).status_code
            expected = 200 if role in allowed else (302 if user is None else 403)
            assert (role, page, status) == (role, page, expected)
        # Chairs and the organisers of any track of the edition may add a track.
        status = client.get(f"/{edition.slug}/challenges/new/").status_code
        adds = ("chair", "superuser", "organiser", "other organiser")
        expected = 200 if role in adds else (302 if user is None else 403)
        assert (role, "new/", status) == (role, "new/", expected)
    # Nothing was changed by anyone's GET, and the other organiser cannot post either.
    client = Client()
    client.force_login(people["other organiser"])
    assert (
        client.post(base(track) + f"manage/data/{data_file.pk}/delete/", {"fingerprint": "x"}).status_code
        == 403
    )
    assert DataFile.objects.filter(pk=data_file.pk).exists()


def _crawl_console(client, track) -> tuple[set[str], list[str]]:
    """Every page under the track's address that the client reaches by following links (GET only)
    from the console's pages; the server errors met on the way."""
    prefix = base(track)
    seen, queue, errors = set(), [prefix + p for p in PAGES], []
    while queue and len(seen) < 150:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(f"{response.status_code} {url}")
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in LINK.findall(response.content.decode()):
            link = link.replace("&amp;", "&").split("#")[0]
            if link.startswith(prefix) and link not in seen:
                queue.append(link)
    return seen, errors


def test_a_crawl_of_the_console_finds_no_server_error_and_no_page_for_other_roles(people, track):
    DataFileFactory(challenge=track)
    found = set()
    for role in ("organiser", "chair", "superuser"):
        client = Client()
        client.force_login(people[role])
        pages, errors = _crawl_console(client, track)
        assert errors == []
        found |= pages
    console = sorted(url for url in found if "/manage/" in url)
    assert len(console) >= 9
    for role in ("anonymous", "participant", "reviewer", "other organiser"):
        client = Client()
        if people[role]:
            client.force_login(people[role])
        reached = [url for url in console if client.get(url).status_code not in (302, 403)]
        assert (role, reached) == (role, [])


def test_chair_creates_a_track_and_edits_its_metrics(client, chair, edition, device):
    client.force_login(chair)
    response = client.post(
        f"/{edition.slug}/challenges/new/",
        {
            "title": "Quantized Scenes",
            "slug": "",
            "summary": "30 scenes, INT8",
            "description": "Classify **scenes**.<script>alert(1)</script>",
            "result_format": "csv",
            "per_file_scores": "auto",
            "max_team_size": 5,
            "submissions_per_day": 5,
            "submissions_total": 100,
            "leaderboard_policy": "best",
            "grace_minutes": 0,
            "max_upload_mb": 200,
        },
        follow=True,
    )
    track = Challenge.objects.get(workshop=edition, slug="quantized-scenes")
    assert response.redirect_chain[-1][0] == base(track) + "manage/track/"
    assert [m["key"] for m in track.metrics] == ["top1", "top3"]
    assert str(track.description_html) == "<p>Classify <strong>scenes</strong>.</p>"
    form = {
        "action": "track",
        "title": "Quantized Scenes",
        "summary": "30 scenes, INT8",
        "description": "",
        "result_format": "csv",
        "per_file_scores": "hidden",
        "max_team_size": 3,
        "submissions_per_day": 2,
        "submissions_total": 20,
        "leaderboard_policy": "latest",
        "grace_minutes": 5,
        "max_upload_mb": 50,
        "metrics-TOTAL_FORMS": 2,
        "metrics-INITIAL_FORMS": 0,
        "metrics-0-key": "top3",
        "metrics-0-label": "Top-3 (%)",
        "metrics-0-higher_is_better": "1",
        "metrics-0-precision": 1,
        "metrics-1-key": "psnr",
        "metrics-1-label": "PSNR",
        "metrics-1-higher_is_better": "1",
        "metrics-1-precision": 2,
    }
    response = client.post(base(track) + "manage/track/", form)
    assert text(response, data_testid="track-errors") == (
        "The scorer of these results does not compute “psnr”; use one of: top1, top3."
    )
    form["metrics-1-DELETE"] = "on"
    client.post(base(track) + "manage/track/", form)
    track.refresh_from_db()
    assert track.metrics == [{"key": "top3", "label": "Top-3 (%)", "higher_is_better": True, "precision": 1}]
    assert (track.submissions_per_day, track.per_file_scores, track.grace_minutes) == (2, "hidden", 5)


def test_formula_preview_fragment_ranks_results_and_explains_a_bad_formula(client, track):
    team = TeamFactory(challenge=track, name="Quick")
    ModelSubmission.objects.create(
        challenge=track, team=team, status="done", metrics={"psnr": 30.0}, runtime_ms=5.0
    )
    client.force_login(track.organiser)
    url = base(track) + "manage/track/preview/"
    fragment = client.get(
        url, {"scoring-score_formula": "psnr / runtime_ms", "scoring-constants": ""}, HTTP_HX_REQUEST="true"
    )
    assert table(fragment, id="formula-preview-table") == [["1", "Quick", "—", "6"]]
    fragment = client.get(url, {"scoring-score_formula": "psnr / (C - 2)", "scoring-constants": "C = 2"})
    assert text(fragment, data_testid="formula-error") == "Division by zero."
    fragment = client.get(url, {"scoring-score_formula": "psnr", "scoring-constants": "C: 2"})
    assert text(fragment, data_testid="formula-error") == "“C: 2” is not of the form NAME = number."


def test_contract_is_filled_from_a_reference_model_then_saved(client, track, tflite_models):
    client.force_login(track.organiser)
    url = base(track) + "manage/contract/"
    with tflite_models["conv_int8"].open("rb") as model:
        page = client.post(url, {"action": "read", "reference_model": model})
    assert element(page, id="id_input_shape").attrs["value"] == "1x32x32x3"
    assert element(page, id="id_int8_required").attrs.get("checked") is not None
    assert "The form below is filled from the model: review it and save." in text(
        page, data_testid="reference-notes"
    )
    track.refresh_from_db()
    assert track.input_shape == []  # read, not saved yet
    client.post(
        url,
        {
            "action": "contract",
            "input_shape": "1x32x32x3",
            "input_dtype": "uint8",
            "output_shape": "1×32×32×3",
            "output_dtype": "uint8",
            "value_range_min": 0,
            "value_range_max": 255,
            "int8_required": "on",
        },
    )
    track.refresh_from_db()
    assert track.contract == {
        "input_shape": [1, 32, 32, 3],
        "input_dtype": "uint8",
        "output_shape": [1, 32, 32, 3],
        "output_dtype": "uint8",
        "value_range": [0.0, 255.0],
        "int8_required": True,
    }
    page = client.post(
        url,
        {
            "action": "contract",
            "input_shape": "1x?x?x3",
            "input_dtype": "float32",
            "output_shape": "",
            "output_dtype": "float32",
            "value_range_min": 0,
            "value_range_max": 255,
        },
    )
    assert text(page, "ul", **{"class": "errorlist"}) == (
        "Give the size the track measures at in place of each “?” (e.g. 1x480x720x3)."
    )


def test_milestones_are_typed_in_the_workshops_zone_and_drawn(client, track):
    client.force_login(track.organiser)
    url = base(track) + "manage/milestones/"
    page = client.get(url)
    assert element(page, id="timeline-now") is not None
    assert len(element(page, id="timeline-svg").find_all("circle")) == 8
    assert "The validation phase accepts results." in text(page, id="open-now")
    form = {
        k: v
        for k, v in (
            (f.attrs["name"], f.attrs.get("value", ""))
            for f in element(page, data_testid="milestones-form").find_all("input")
        )
        if k != "csrfmiddlewaretoken"
    }
    old = Milestone.objects.get(challenge=track, kind="challenge_papers").at
    form["challenge_papers"] = "2031-06-01T17:00"
    # A published milestone moves only once the organiser has seen the change and confirmed it.
    page = client.post(url, form)
    assert table(page, id="milestone-moves") == [
        [
            "Challenge paper submission deadline",
            selectors.in_workshop_zone(old, track.workshop),
            "Sun 1 June 2031, 5pm Pacific Time (PDT)",
        ]
    ]
    assert Milestone.objects.get(challenge=track, kind="challenge_papers").at == old
    confirm = {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in element(page, data_testid="milestones-confirm-form").find_all("input")
    }
    client.post(url, confirm)
    papers = Milestone.objects.get(challenge=track, kind="challenge_papers").at
    assert papers == dt.datetime(2031, 6, 1, 17, 0, tzinfo=PACIFIC)
    form["test_data"] = "2000-01-01T17:00"
    page = client.post(url, form)
    assert text(page, data_testid="milestone-errors").startswith(
        "“Final test data released” (Sat 1 January 2000, 5pm"
    )
    form["test_data"] = "2031-03-09T02:30"  # the clocks skip 2:00–3:00 that night in Pacific time
    page = client.post(url, form)
    assert "02:30 on 09 March 2031 does not exist in America/Los_Angeles (clocks change)." in text(
        page, data_testid="milestones-form"
    )


def test_dashboard_shows_pending_registrations_failures_and_devices(client, track, make_user, device):
    pending = make_user(email="waiting@uni.example")
    RegistrationFactory(challenge=track, user=pending, approved=False)
    from tests.factories import SubmissionFactory

    team = TeamFactory(challenge=track, name="Broken Pipes")
    SubmissionFactory(team=team, status="failed", error="The archive holds no PNG")
    client.force_login(track.organiser)
    page = client.get(base(track) + "manage/")
    assert text(page, data_testid="registration-counts") == "1 registered, 1 waiting for approval."
    assert table(page, id="failures")[0][1:] == ["Broken Pipes", "Validation", "The archive holds no PNG"]
    assert table(page, id="devices") == [["Host CPU this track's target", "Online", "0", "0"]]
    bars = element(page, id="per-day-chart").find_all("g")
    assert bars[-1].attrs["data-count"] == "1"
    assert table(page, id="teams") == [["Broken Pipes", "0", "1", "0"]]


def test_failed_validation_submissions_are_scored_again_from_the_dashboard(client, track, make_user):
    from common.models import Dispatch
    from tests.factories import SubmissionFactory

    team = TeamFactory(challenge=track, name="Broken Pipes")
    failed = SubmissionFactory(team=team, status="failed", error="The ground truth was wrong")
    done = SubmissionFactory(team=team, status="done", scores={"psnr": 30.0})
    # A participant of the track may not ask for it.
    participant = make_user(email="solver@uni.example")
    RegistrationFactory(challenge=track, user=participant)
    client.force_login(participant)
    assert client.post(base(track) + "manage/rescore-failed/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"
    client.force_login(track.organiser)
    page = client.get(base(track) + "manage/")
    button = element(page, data_testid="rescore-failed")
    assert text(button, "button") == "Score the failed validation submissions again"
    page = client.post(button.attrs["action"], follow=True)
    assert text(page, "div", **{"class": "messages"}) == (
        "1 failed validation submission(s) queued to be scored again."
    )
    assert table(page, id="failures") == [["No failures."]]
    assert element(page, data_testid="rescore-failed") is None
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.status, failed.error, done.status) == ("queued", "", "done")
    assert Dispatch.objects.filter(ref__endswith=f":{failed.pk}", sent_at=None).count() == 1
    # Nothing failed any more: the button says so instead of queuing anything.
    page = client.post(button.attrs["action"], follow=True)
    assert text(page, "div", **{"class": "messages"}) == "No validation submission of this track has failed."
    # A GET changes nothing.
    assert client.get(button.attrs["action"]).status_code == 405


def test_the_scoring_form_keeps_a_target_device_that_has_not_registered_yet(client, track, device):
    from challenges.finalphase.models import FinalPhaseSettings

    FinalPhaseSettings.objects.create(
        challenge=track, score_formula="psnr", constants={}, device_slug="pi-4-lab", accelerator="cpu"
    )
    client.force_login(track.organiser)
    url = base(track) + "manage/track/"
    page = client.get(url)
    chosen = element(page, id="id_scoring-device_slug").find_all("option")
    assert [(o.text, "selected" in o.attrs) for o in chosen] == [
        ("Host CPU (host-cpu)", False),
        ("pi-4-lab (not registered yet)", True),
    ]
    form = {
        "action": "scoring",
        "scoring-score_formula": "2 ** (2 * psnr)",
        "scoring-constants": "",
        "scoring-device_slug": "pi-4-lab",
        "scoring-accelerator": "cpu",
    }
    client.post(url, form)
    settings = FinalPhaseSettings.objects.get(challenge=track)
    assert (settings.score_formula, settings.device_slug) == ("2 ** (2 * psnr)", "pi-4-lab")
    # Another accelerator on the unregistered device is refused: nobody knows what it offers.
    page = client.post(url, {**form, "scoring-accelerator": "gpu"})
    assert text(page, data_testid="scoring-errors") == (
        "No device “pi-4-lab” is registered: choose a registered device, or keep the current target "
        "until its host registers."
    )
    client.post(url, {**form, "scoring-device_slug": "host-cpu", "scoring-accelerator": "xnnpack"})
    assert FinalPhaseSettings.objects.get(challenge=track).device_slug == "host-cpu"


def test_a_phase_without_its_closing_milestone_is_drawn_open_to_the_edge(client, track):
    Milestone.objects.filter(challenge=track, kind="test_data").delete()
    client.force_login(track.organiser)
    page = client.get(base(track) + "manage/milestones/")
    band = element(page, "rect", **{"class": "phase-validation"})
    assert float(band.attrs["x"]) + float(band.attrs["width"]) == 700  # the axis ends at 720 − 20
    assert element(page, "rect", **{"class": "phase-final"}) is None
    assert "The validation phase accepts results." in text(page, id="open-now")


def test_data_file_deletion_goes_through_its_confirmation(client, track):
    data_file = DataFileFactory(challenge=track, split="train", title="Old training set")
    client.force_login(track.organiser)
    url = base(track) + f"manage/data/{data_file.pk}/delete/"
    page = client.get(url)
    assert table(page, data_testid="confirm-counts") == [["Bytes stored", "22"]]
    page = client.post(url, {"fingerprint": "something else"}, follow=True)
    assert DataFile.objects.filter(pk=data_file.pk).exists()
    fingerprint = element(client.get(url), "input", name="fingerprint").attrs["value"]
    client.post(url, {"fingerprint": fingerprint})
    assert not DataFile.objects.filter(pk=data_file.pk).exists()
