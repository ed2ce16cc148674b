"""The organiser console's services on PostgreSQL: a track created and edited, the contract read from
real TensorFlow-made models in the sandbox, the formula preview, the milestones' order, data files
refused while streaming, and deletions only through their confirmation."""

import datetime as dt
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from challenges.console import selectors, services
from challenges.finalphase.models import FinalPhaseSettings, ModelSubmission
from challenges.models import Challenge, DataFile, Milestone
from challenges.services.base import ChallengeError
from tests.factories import ChallengeFactory, DataFileFactory, SubmissionFactory, TeamFactory

pytestmark = pytest.mark.django_db
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


def test_track_create_makes_the_creator_an_organiser_and_checks_metrics(edition, chair):
    track = services.track_create(
        workshop=edition,
        by=chair,
        title="Depth on the Pi",
        slug="",
        result_format="npz",
        metrics=[
            {"key": "si_rmse", "label": "si-RMSE", "higher_is_better": False, "precision": 4},
            {"key": "rmse", "label": "RMSE", "higher_is_better": False, "precision": 1},
        ],
    )
    assert track.slug == "depth-on-the-pi"
    assert list(track.organisers.all()) == [chair]
    assert [m["key"] for m in track.metrics] == ["si_rmse", "rmse"]
    assert FinalPhaseSettings.objects.filter(challenge=track).exists()
    with pytest.raises(ChallengeError) as refused:
        services.track_create(workshop=edition, by=chair, title="Depth on the Pi")
    assert refused.value.messages == [
        "Another track of this edition already has the address “depth-on-the-pi”."
    ]
    # "New" would be hidden behind the new-track page at /<workshop>/challenges/new/.
    with pytest.raises(ChallengeError) as refused:
        services.track_create(workshop=edition, by=chair, title="New")
    assert refused.value.messages == ["The address “new” is one of the site's own pages; choose another."]
    with pytest.raises(ChallengeError) as refused:
        services.track_update(
            challenge=track,
            metrics=[{"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2}],
        )
    assert refused.value.messages == [
        "The scorer of these results does not compute “psnr”; use one of: si_rmse, rmse, log10, rel."
    ]
    track.refresh_from_db()
    assert [m["key"] for m in track.metrics] == ["si_rmse", "rmse"]


def test_contract_from_a_keras_default_export_takes_the_dynamic_batch_as_one(keras_default_tflite):
    read = services.contract_from_reference_model(data=keras_default_tflite.read_bytes())
    assert read.values == {
        "input_shape": [1, 32, 32, 3],
        "input_dtype": "float32",
        "output_shape": [1, 32, 32, 3],
        "output_dtype": "float32",
        "int8_required": False,
    }
    assert "The input's batch dimension is dynamic (a Keras default export): taken as 1." in read.notes
    assert not read.free_dimensions


def test_contract_from_int8_and_dynamic_models_and_a_broken_file(tflite_models, track):
    read = services.contract_from_reference_model(data=tflite_models["conv_int8"].read_bytes())
    assert read.values["input_dtype"] == read.values["output_dtype"] == "uint8"
    assert read.values["int8_required"] is True
    assert read.values["input_shape"] == [1, 32, 32, 3]
    # The uint8 input's quantisation carries the real range the model expects.
    assert read.values["value_range_min"] == pytest.approx(0, abs=1)
    assert read.values["value_range_max"] == pytest.approx(255, abs=1)
    services.track_contract_set(challenge=track, **read.values)
    track.refresh_from_db()
    assert track.contract["input_shape"] == [1, 32, 32, 3] and track.int8_required

    dynamic = services.contract_from_reference_model(data=tflite_models["conv_dynamic"].read_bytes())
    assert dynamic.values["input_shape"] == [1, None, None, 3]
    assert dynamic.free_dimensions
    with pytest.raises(ChallengeError) as refused:
        services.track_contract_set(challenge=track, input_shape=dynamic.values["input_shape"])
    assert refused.value.messages == ["The input shape must be whole numbers of at least 1."]

    with pytest.raises(ChallengeError) as refused:
        services.contract_from_reference_model(data=b"\x00" * 64)
    assert refused.value.messages[0].startswith(
        "The reference model was refused: This is not a TensorFlow Lite"
    )


def test_formula_preview_on_current_results_and_a_bad_formula(track):
    for name, psnr, runtime in [("Fast", 30.0, 10.0), ("Sharp", 33.0, 80.0)]:
        team = TeamFactory(challenge=track, name=name)
        ModelSubmission.objects.create(
            challenge=track, team=team, status="done", metrics={"psnr": psnr, "ssim": 0.9}, runtime_ms=runtime
        )
    preview = selectors.formula_preview(
        challenge=track, source="2 ** (2 * psnr) / (C * runtime_ms)", constants={"C": 1.0}
    )
    assert preview.error == ""
    assert [(r.rank, r.team) for r in preview.rows] == [(1, "Sharp"), (2, "Fast")]
    assert preview.rows[0].preview == pytest.approx(2**66 / 80)

    bad = selectors.formula_preview(
        challenge=track, source="2 ** (2 * psnr) / (C * runtime)", constants={"C": 1}
    )
    assert bad.rows == []
    assert bad.error == (
        "Unknown name “runtime”; use one of: accuracy_top1, accuracy_top3, energy_mj, memory_mb, power_w, psnr, rmse, "
        "runtime_ms, si_rmse, ssim, C."
    )
    never = selectors.formula_preview(challenge=track, source="psnr / (C - 1)", constants={"C": 1})
    assert never.error == "Division by zero."
    with pytest.raises(ChallengeError) as refused:
        services.track_scoring_set(
            challenge=track, score_formula="psnr /", constants={}, device_slug="host-cpu", accelerator="cpu"
        )
    assert refused.value.messages == ["Score formula: The formula is not a valid expression: invalid syntax."]
    with pytest.raises(ChallengeError) as refused:
        services.track_scoring_set(
            challenge=track, score_formula="psnr", constants={}, device_slug="host-cpu", accelerator="npu"
        )
    assert refused.value.messages == ["Host CPU offers cpu, xnnpack, not npu."]


def test_milestones_keep_their_order_with_clear_errors(track):
    at = dict(Milestone.objects.filter(challenge=track).values_list("kind", "at"))
    five_pm = dt.datetime(2030, 3, 15, 17, 0, tzinfo=PACIFIC)
    with pytest.raises(ChallengeError) as refused:
        services.milestones_set(challenge=track, values={"test_data": at["validation_server"]})
    assert refused.value.messages == [
        "“Final test data released” ("
        + selectors.in_workshop_zone(at["validation_server"], track.workshop)
        + ") must come after “Validation server online” ("
        + selectors.in_workshop_zone(at["validation_server"], track.workshop)
        + ") (the validation phase would last no time)."
    ]
    with pytest.raises(ChallengeError) as refused:
        services.milestones_set(challenge=track, values={"website_online": five_pm})
    assert refused.value.messages == [
        "“Train/validation data released” ("
        + selectors.in_workshop_zone(at["train_data"], track.workshop)
        + ") must come at or after “Website online” (Fri 15 March 2030, 5pm Pacific Time (PDT))."
    ]
    assert Milestone.objects.get(challenge=track, kind="website_online").at == at["website_online"]
    # Equal instants are fine where no phase is squeezed to nothing; clearing one skips it. Moving or
    # removing a published milestone needs the fingerprint of the milestones the change was confirmed
    # on, and is logged in the edition's dates log.
    values = {"factsheet_deadline": at["final_deadline"], "preliminary_results": None}
    with pytest.raises(ChallengeError) as refused:
        services.milestones_set(challenge=track, values=values)
    assert refused.value.messages == ["Moving or removing a published milestone needs your confirmation."]
    with pytest.raises(ChallengeError) as refused:
        services.milestones_set(challenge=track, values=values, confirmed_fingerprint="made on other dates")
    assert refused.value.messages == [
        "The milestones were changed by someone else since you made this change: check them again."
    ]
    fingerprint = selectors.milestones_fingerprint(challenge=track)
    changed = services.milestones_set(
        challenge=track, values=values, by=track.organiser, confirmed_fingerprint=fingerprint
    )
    assert changed == ["preliminary_results"]
    assert not Milestone.objects.filter(challenge=track, kind="preliminary_results").exists()
    from console.models import DateChangeLog

    log = DateChangeLog.objects.get(workshop=track.workshop)
    assert (log.title, log.old_at, log.new_at, log.changed_by) == (
        "Denoising: Preliminary test results released to participants",
        at["preliminary_results"],
        None,
        track.organiser,
    )
    # Adding a milestone publishes it: no confirmation, nothing logged.
    services.milestones_set(challenge=track, values={"preliminary_results": at["preliminary_results"]})
    assert DateChangeLog.objects.count() == 1
    with pytest.raises(ChallengeError) as refused:
        services.milestones_set(challenge=track, values={"test_data": dt.datetime(2030, 3, 15, 17, 0)})
    assert refused.value.messages == ["Give each milestone with its time zone."]


def test_data_file_over_the_limit_is_refused_while_streaming(client, track, settings):
    settings.MAX_UPLOAD_BYTES = 64 * 1024
    client.force_login(track.organiser)
    url = f"/{track.workshop.slug}/challenges/{track.slug}/manage/data/"
    # Under the body's limit (the form may carry other fields) but over the file's: cut mid-stream.
    response = client.post(
        url,
        {"split": "train", "title": "Too big", "upload": SimpleUploadedFile("big.zip", b"x" * (200 * 1024))},
        follow=True,
    )
    assert [m.message for m in response.context["messages"]] == [
        "The file “big.zip” is larger than 64 KB and was refused; nothing was saved."
    ]
    assert not DataFile.objects.filter(challenge=track).exists()
    # Announced as too large: refused from Content-Length, before the body is read.
    response = client.post(
        url,
        {
            "split": "train",
            "title": "Too big",
            "upload": SimpleUploadedFile("big.zip", b"x" * (2 * 1024 * 1024)),
        },
        follow=True,
    )
    assert [m.message for m in response.context["messages"]] == [
        "The upload is 2 MB: a data file may have at most 64 KB. Nothing was read or saved."
    ]
    assert not DataFile.objects.filter(challenge=track).exists()
    response = client.post(
        url,
        {"split": "train", "title": "Small", "upload": SimpleUploadedFile("small.zip", b"PK" + b"y" * 1000)},
        follow=True,
    )
    stored = DataFile.objects.get(challenge=track, title="Small")
    assert stored.size == 1002 and stored.file.read() == b"PK" + b"y" * 1000


def test_deletions_need_the_fingerprint_shown_and_never_lose_participants_work(track):
    data_file = DataFileFactory(challenge=track, split="train")
    seen = selectors.data_file_deletion(data_file=data_file)
    assert seen.counts == {"bytes stored": 22}
    with pytest.raises(ChallengeError):
        services.data_file_delete(data_file=data_file, fingerprint="stale")
    assert DataFile.objects.filter(pk=data_file.pk).exists()
    services.data_file_delete(data_file=data_file, fingerprint=seen.fingerprint)
    assert not DataFile.objects.filter(pk=data_file.pk).exists()

    deletion = selectors.track_deletion(challenge=track)
    assert deletion.counts["milestones"] == 8 and deletion.blocked == ""
    team = TeamFactory(challenge=track)
    SubmissionFactory(team=team)
    blocked = selectors.track_deletion(challenge=track)
    assert blocked.counts["teams"] == 1 and blocked.counts["submissions"] == 1
    with pytest.raises(ChallengeError) as refused:
        services.track_delete(challenge=track, fingerprint=blocked.fingerprint)
    assert refused.value.messages == [blocked.blocked]
    assert Challenge.objects.filter(pk=track.pk).exists()

    # A challenge paper protects its track (PROTECT): the confirmation says so instead of failing.
    from tests.factories import PaperFactory

    other = ChallengeFactory(workshop=track.workshop)
    PaperFactory(workshop=track.workshop, kind="challenge", challenge=other)
    protected = selectors.track_deletion(challenge=other)
    assert protected.blocked == "This track cannot be deleted: papers (1) refer to it."
    with pytest.raises(ChallengeError):
        services.track_delete(challenge=other, fingerprint=protected.fingerprint)
    empty = ChallengeFactory(workshop=track.workshop)
    services.track_delete(challenge=empty, fingerprint=selectors.track_deletion(challenge=empty).fingerprint)
    assert not Challenge.objects.filter(pk=empty.pk).exists()


def test_dashboard_counts_per_day_failures_and_devices(track, device):
    from tests.factories import RuntimeJobFactory

    team = TeamFactory(challenge=track, name="Night Owls")
    now = timezone.now()
    failed = SubmissionFactory(team=team, status="failed", error="“x.png” is not a readable PNG image")
    SubmissionFactory(team=team, status="done")
    RuntimeJobFactory(device=device, state="queued")
    board = selectors.dashboard(challenge=track, now=now)
    today = now.astimezone(PACIFIC).date()
    assert board.per_day[-1] == (today, 2, 0)
    assert [s.pk for s in board.validation_failures] == [failed.pk]
    assert [(d.slug, d.queued, d.is_target) for d in board.devices] == [("host-cpu", 1, True)]
    assert [(t.name, t.members, t.subs) for t in board.teams] == [("Night Owls", 0, 2)]
