"""Final-phase services without workers: every refused upload (clear message, nothing stored), the
counting policies, score recomputation when the formula or C changes, ranking with unranked teams,
fact sheets and code, and the exports read back with pypdf."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from challenges.finalphase import selectors
from challenges.finalphase.models import CodeSubmission, FactSheet, ModelSubmission
from challenges.finalphase.services import factsheets, scores, submissions
from challenges.finalphase.services.base import FinalPhaseRefused
from tests import html
from tests.finalphase.conftest import complete_for_ranking, make_team, measured, set_milestones


def upload(path_or_bytes, name="model.tflite"):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return SimpleUploadedFile(name, data)


def refused(fn, **kwargs) -> list[str]:
    with pytest.raises(FinalPhaseRefused) as exc:
        fn(**kwargs)
    return exc.value.messages


@pytest.fixture
def no_queue(monkeypatch):
    """These tests check intake only: nothing is sent to the broker (the pipeline test runs workers)."""
    monkeypatch.setattr(submissions, "_queue_measurements", lambda submission_id: None)


def test_valid_model_is_stored_with_what_intake_read(
    challenge, team, participant, tflite_models, no_queue, django_capture_on_commit_callbacks
):
    s = submissions.model_submission_create(
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
        method_name="UNet-S",
    )
    assert s.team == team and s.status == "running" and s.fidelity_status == "queued"
    assert s.model_info["inputs"][0]["shape"] == [1, 32, 32, 3]
    assert s.model.read()[4:8] == b"TFL3"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("conv_int8", "Input 0 is uint8 1×32×32×3; this track expects float32 1×32×32×3"),
        ("classifier_int8", "Output 0 is uint8 1×30"),
    ],
)
def test_contract_mismatch_is_refused_at_upload(challenge, team, participant, tflite_models, model, message):
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models[model]),
    )
    assert any(message in m for m in msgs), msgs
    assert not ModelSubmission.objects.exists()


def test_random_bytes_empty_and_too_big_are_refused(challenge, team, participant):
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(b"\x00" * 64),
    )
    assert "not a TensorFlow Lite model" in msgs[0]
    msgs = refused(
        submissions.model_submission_create, challenge=challenge, user=participant, model_file=upload(b"")
    )
    assert "empty" in msgs[0]
    scores.final_settings_update(challenge=challenge, max_model_mb=1)
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(b"\x00\x00\x00\x00TFL3" + b"0" * (1024 * 1024)),
    )
    assert "the limit is 1 MB" in msgs[0]
    assert not ModelSubmission.objects.exists()


def test_deadline_edges_and_not_open_yet(challenge, team, participant, tflite_models, no_queue):
    deadline = timezone.now() + dt.timedelta(hours=1)
    set_milestones(challenge, final_deadline=deadline)
    ok = submissions.model_submission_create(
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
        now=deadline - dt.timedelta(microseconds=1),
    )
    assert ok.pk
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
        now=deadline + dt.timedelta(seconds=1),
    )
    assert "The final phase closed at" in msgs[0] and "1 second ago" in msgs[0]
    set_milestones(challenge, test_data=1)
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
    )
    assert "not open yet" in msgs[0]
    assert ModelSubmission.objects.count() == 1


def test_no_team_and_limit_where_failed_ones_do_not_count(
    challenge, team, participant, make_user, tflite_models, no_queue
):
    loner = make_user(email="loner@example.org")
    assert (
        "not in a team"
        in refused(
            submissions.model_submission_create,
            challenge=challenge,
            user=loner,
            model_file=upload(tflite_models["conv_float"]),
        )[0]
    )
    scores.final_settings_update(challenge=challenge, max_submissions=1)
    measured(challenge, team, psnr=20, runtime_ms=5, status="failed")
    first = submissions.model_submission_create(
        challenge=challenge, user=participant, model_file=upload(tflite_models["conv_float"])
    )
    assert first.pk
    msgs = refused(
        submissions.model_submission_create,
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
    )
    assert "used all 1 final submissions" in msgs[0]


def test_dynamic_model_required_and_checked_with_free_spatial_dims(
    challenge, team, participant, tflite_models, no_queue
):
    scores.final_settings_update(challenge=challenge, requires_dynamic_model=True)
    assert (
        "dynamic input size"
        in refused(
            submissions.model_submission_create,
            challenge=challenge,
            user=participant,
            model_file=upload(tflite_models["conv_float"]),
        )[0]
    )
    s = submissions.model_submission_create(
        challenge=challenge,
        user=participant,
        model_file=upload(tflite_models["conv_float"]),
        dynamic_model_file=upload(tflite_models["conv_dynamic"], "dyn.tflite"),
    )
    assert s.dynamic_model.name.endswith(".tflite")


def test_formula_change_recomputes_every_score_and_a_bad_formula_keeps_the_old(challenge, team, make_user):
    a = measured(challenge, team, psnr=20.0, runtime_ms=10.0)
    b = measured(challenge, make_team(challenge, "Team Beta", make_user()), psnr=21.0, runtime_ms=80.0)
    assert a.score == pytest.approx(2**40 / 10.0)
    scores.final_settings_update(challenge=challenge, constants={"C": 4.0})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.score == pytest.approx(2**40 / 40.0) and b.score == pytest.approx(2**42 / 320.0)
    with pytest.raises(FinalPhaseRefused, match="Unknown name “K”"):
        scores.final_settings_update(challenge=challenge, score_formula="psnr / K")
    settings = scores.final_settings_get(challenge=challenge)
    assert settings.score_formula == "2 ** (2 * psnr) / (C * runtime_ms)" and settings.constants == {"C": 4.0}
    scores.final_settings_update(challenge=challenge, score_formula="psnr * power_w")
    a.refresh_from_db()
    assert a.score is None and "Power (W) (power_w), which was not measured" in a.score_error


def test_counting_policy_last_valid_or_team_selected(challenge, team, participant):
    now = timezone.now()
    old = measured(challenge, team, psnr=25.0, runtime_ms=10.0, created_at=now - dt.timedelta(hours=3))
    new = measured(challenge, team, psnr=20.0, runtime_ms=10.0, created_at=now - dt.timedelta(hours=1))
    measured(challenge, team, psnr=30.0, runtime_ms=1.0, status="failed")
    settings = scores.final_settings_get(challenge=challenge)
    assert selectors.counted_submission(team=team, settings=settings) == new
    # A submission after a deadline the organiser moved earlier does not count.
    closes = now - dt.timedelta(hours=2)
    assert selectors.counted_submission(team=team, settings=settings, closes_at=closes) == old
    with pytest.raises(FinalPhaseRefused, match="last valid submission counts"):
        submissions.model_submission_select(submission=old, user=participant)
    scores.final_settings_update(challenge=challenge, counting_policy="team_selected")
    submissions.model_submission_select(submission=old, user=participant)
    settings.refresh_from_db()
    assert selectors.counted_submission(team=team, settings=settings) == old


def test_leaderboard_ranks_by_score_and_lists_incomplete_teams_unranked(challenge, team, make_user):
    beta = make_team(challenge, "Team Beta", make_user())
    gamma = make_team(challenge, "Team Gamma", make_user())
    make_team(challenge, "Team Idle", make_user())  # no submission: not listed
    measured(challenge, team, psnr=22.0, runtime_ms=10.0)  # 2^44/10
    measured(challenge, beta, psnr=23.0, runtime_ms=20.0)  # 2^46/20: best
    measured(challenge, gamma, psnr=30.0, runtime_ms=1.0)  # best of all, but no fact sheet/code
    complete_for_ranking(team)
    complete_for_ranking(beta)
    board = selectors.final_leaderboard(challenge=challenge)
    assert [(s.team.name, s.rank, s.note) for s in board.standings] == [
        ("Team Beta", 1, ""),
        ("Team Alpha", 2, ""),
        ("Team Gamma", None, "unranked: no fact sheet; unranked: no code"),
    ]
    assert [c.key for c in board.columns] == ["psnr", "ssim", "runtime_ms", "memory_mb"]


def test_factsheet_required_fields_links_and_window(challenge, team, participant):
    members = [{"name": "Ada Lovelace", "affiliation": "ETH Zürich", "email": "ada@example.org"}]
    msgs = refused(
        factsheets.factsheet_save,
        challenge=challenge,
        user=participant,
        data={"team_name": "Team Alpha", "links": "javascript:alert(1)"},
        members=[],
    )
    for expected in [
        "Method title is required.",
        "Contact e-mail is required.",
        "List at least one team member.",
        "“javascript:alert(1)” is not a web address",
    ]:
        assert any(m.startswith(expected) for m in msgs), (expected, msgs)
    data = {
        "team_name": "Team Alpha",
        "contact_name": "Ada",
        "contact_email": "ada@example.org",
        "method_title": "Tiny ISP",
        "method_description": "d",
        "architecture_training": "a",
        "training_data_hardware": "t",
        "links": "https://github.com/alpha/isp\n",
    }
    msgs = refused(
        factsheets.factsheet_save,
        challenge=challenge,
        user=participant,
        data=data,
        members=members,
        attachment=SimpleUploadedFile("sheet.pdf", b"%PDF-1.4 garbage"),
    )
    assert msgs == [
        "The attachment is not a readable PDF: The PDF is damaged and cannot be read; export it again."
    ]
    sheet = factsheets.factsheet_save(challenge=challenge, user=participant, data=data, members=members)
    assert sheet.link_list == ["https://github.com/alpha/isp"]
    set_milestones(challenge, factsheet_deadline=-0.0001)
    msgs = refused(
        factsheets.factsheet_save, challenge=challenge, user=participant, data=data, members=members
    )
    assert "The fact sheet and code deadline passed at" in msgs[0]
    sheet.refresh_from_db()
    assert sheet.method_title == "Tiny ISP"  # nothing lost


def test_code_archive_size_limit_type_and_url(challenge, team, participant):
    scores.final_settings_update(challenge=challenge, max_code_mb=1)
    big = SimpleUploadedFile("code.zip", b"0" * (1024 * 1024 + 1))
    assert (
        "the limit is 1 MB"
        in refused(factsheets.code_submission_save, challenge=challenge, user=participant, archive=big)[0]
    )
    assert (
        "must be a .zip"
        in refused(
            factsheets.code_submission_save,
            challenge=challenge,
            user=participant,
            archive=SimpleUploadedFile("code.exe", b"MZ"),
        )[0]
    )
    assert (
        "Upload a code archive or give the URL"
        in refused(factsheets.code_submission_save, challenge=challenge, user=participant)[0]
    )
    code = factsheets.code_submission_save(
        challenge=challenge,
        user=participant,
        archive=SimpleUploadedFile("code.zip", b"PK\x05\x06" + b"\0" * 18),
    )
    assert code.archive_size == 22 and code.archive_name == "code.zip"
    code = factsheets.code_submission_save(
        challenge=challenge, user=participant, repository_url="https://git.example.org/a"
    )
    assert code.archive_name == "code.zip" and code.repository_url == "https://git.example.org/a"
    assert not CodeSubmission.objects.exclude(pk=code.pk).exists()


def test_exports_and_merged_factsheets_read_back(client, challenge, team, organiser, make_user):
    beta = make_team(challenge, "Team Beta", make_user())
    measured(challenge, team, psnr=22.0, runtime_ms=10.0)
    measured(challenge, beta, psnr=23.0, runtime_ms=20.0)
    complete_for_ranking(team)
    complete_for_ranking(beta)
    client.force_login(organiser)
    args = [challenge.workshop.slug, challenge.slug]
    pdf = client.get(reverse("finalphase:export", args=[*args, "pdf"]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "MAI Test Learned Smartphone ISP: final results" in text
    # The table's rows, found by rank and team: Beta first with its PSNR, then Alpha.
    assert html.line_with(text, "1 Team Beta").startswith("1 Team Beta 23.00 ")
    assert html.line_with(text, "2 Team Alpha").startswith("2 Team Alpha 22.00 ")
    assert "vs runtime on Host CPU" in text
    tex = client.get(reverse("finalphase:export", args=[*args, "tex"])).content.decode()
    assert "1 & Team Beta & \\textbf{23.00}" in tex
    svg = client.get(reverse("finalphase:export", args=[*args, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"Pareto front" in svg.content
    merged = PdfReader(io.BytesIO(client.get(reverse("finalphase:factsheets", args=args)).content))
    assert [o.title for o in merged.outline] == ["Team Beta", "Team Alpha"]
    assert "Team Alpha Net" in "".join(p.extract_text() for p in merged.pages)
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(reverse("finalphase:export", args=[*args, "zip"])).content)
    )
    names = set(archive.namelist())
    assert "mai-test-isp-final/factsheets.pdf" in names and "mai-test-isp-final/plot-host-cpu.png" in names
    assert archive.read("mai-test-isp-final/plot-host-cpu.png")[:4] == b"\x89PNG"


def test_organiser_settings_page_reports_a_bad_formula(client, challenge, organiser, participant):
    url = reverse("finalphase:settings", args=[challenge.workshop.slug, challenge.slug])
    client.force_login(participant)
    assert client.get(url).status_code == 403
    client.force_login(organiser)
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        score_formula="2 ** (2 * psnr) / (C * runtime_ms", constants="C = 2", fidelity_input_shape="[]"
    )
    r = client.post(url, data)
    assert r.status_code == 400 and "not a valid expression" in r.content.decode()
    data["score_formula"] = "2 ** (2 * psnr) / (C * runtime_ms)"
    assert client.post(url, data).status_code == 302
    assert scores.final_settings_get(challenge=challenge).constants == {"C": 2.0}


def test_seeded_tracks_get_mai_formulas_and_their_hidden_data_loads(seeded, tflite_models):
    from challenges.finalphase.fidelity import compute_metrics, run_model
    from challenges.models import Challenge, DataFile

    live = {c.slug: c for c in Challenge.objects.filter(workshop__slug="mai-live")}
    formulas = {slug: scores.final_settings_get(challenge=c).score_formula for slug, c in live.items()}
    assert formulas["learned-isp"] == "2 ** (2 * psnr) / (C * runtime_ms)"
    assert formulas["depth-estimation"] == "2 ** (-20 * si_rmse) / (C * runtime_ms)"
    for challenge in live.values():  # the challenge side's hidden files, read the fidelity job's way
        inputs = submissions._hidden_arrays(challenge, DataFile.Split.TEST_INPUT)
        truth = submissions._hidden_arrays(challenge, DataFile.Split.TEST_GT)
        assert inputs and set(inputs) == set(truth), challenge.slug
    denoise = live["image-denoising"]
    inputs = submissions._hidden_arrays(denoise, DataFile.Split.TEST_INPUT)
    truth = submissions._hidden_arrays(denoise, DataFile.Split.TEST_GT)
    values = compute_metrics(["psnr", "ssim"], run_model(tflite_models["conv_dynamic"], inputs), truth)
    assert 0 < values["psnr"] < 60 and -1 <= values["ssim"] <= 1


def test_pages_show_clear_errors_and_keep_nothing(client, challenge, team, participant, make_user):
    home = reverse("finalphase:home", args=[challenge.workshop.slug, challenge.slug])
    assert "Log in</a> to take part" in client.get(home).content.decode()
    client.force_login(make_user(email="nobody@example.org"))
    assert "not in a team of this challenge" in client.get(home).content.decode()
    client.force_login(participant)
    page = client.get(home)
    assert html.text(page, data_testid="left").startswith("3 of 3 submissions left")
    assert html.text(page, data_testid="ranking-requirements").startswith("Fact sheet: missing")
    submit = reverse("finalphase:submit", args=[challenge.workshop.slug, challenge.slug])
    r = client.post(submit, {"model": SimpleUploadedFile("model.onnx", b"onnx")})
    assert r.status_code == 400 and "Upload the TensorFlow Lite model (a .tflite file)." in r.content.decode()
    r = client.post(submit, {"model": SimpleUploadedFile("model.tflite", b"\x00" * 100)})
    assert r.status_code == 400 and "not a TensorFlow Lite model" in r.content.decode()
    factsheet = reverse("finalphase:factsheet", args=[challenge.workshop.slug, challenge.slug])
    r = client.post(
        factsheet,
        {
            "team_name": "Team Alpha",
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-0-name": "Ada",
            "members-0-affiliation": "",
        },
    )
    text = r.content.decode()
    assert r.status_code == 400 and "This field is required." in text
    assert not ModelSubmission.objects.exists() and not FactSheet.objects.exists()


def test_oversized_bodies_are_refused_from_their_header(client, challenge, team, participant):
    scores.final_settings_update(challenge=challenge, max_code_mb=1)
    client.force_login(participant)
    code = reverse("finalphase:code", args=[challenge.workshop.slug, challenge.slug])
    r = client.post(
        code, {"repository_url": "https://example.org/x"}, CONTENT_LENGTH=str(50 * 1024 * 1024), follow=True
    )
    assert "The upload is 50 MB; at most 1 MB is accepted here." in r.content.decode()
    assert not CodeSubmission.objects.exists()


def test_code_archive_and_factsheet_attachment_reach_team_and_organisers_only(
    client, challenge, team, participant, organiser, make_user
):
    factsheets.code_submission_save(
        challenge=challenge,
        user=participant,
        archive=SimpleUploadedFile("alpha-code.zip", b"PK\x05\x06" + b"\0" * 18),
    )
    url = reverse("finalphase:team-file", args=[challenge.workshop.slug, challenge.slug, team.pk, "code"])
    client.force_login(participant)
    r = client.get(url)
    assert r["Content-Disposition"] == 'attachment; filename="alpha-code.zip"'
    assert b"".join(r.streaming_content).startswith(b"PK\x05\x06")
    client.force_login(organiser)
    assert client.get(url).status_code == 200
    other = make_user(email="trudy@example.org")
    make_team(challenge, "Team Trudy", other)
    client.force_login(other)
    assert client.get(url).status_code == 404
    attachment = reverse(
        "finalphase:team-file",
        args=[challenge.workshop.slug, challenge.slug, team.pk, "factsheet-attachment"],
    )
    client.force_login(participant)
    assert client.get(attachment).status_code == 404  # no fact sheet yet


def test_api_submits_reports_status_and_hides_numbers_until_allowed(
    client, challenge, team, participant, tflite_models, no_queue
):
    base = f"/api/final/{challenge.workshop.slug}/{challenge.slug}"
    client.force_login(participant)
    r = client.post(f"{base}/submissions/", {"model": SimpleUploadedFile("m.tflite", b"\0" * 64)})
    assert r.status_code == 400 and r.json()["reason"] == "bad_model"
    assert "not a TensorFlow Lite model" in r.json()["errors"][0]
    r = client.post(
        f"{base}/submissions/", {"model": upload(tflite_models["conv_float"]), "method_name": "API"}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "running" and body["team"] == "Team Alpha" and body["results"] is None
    s = ModelSubmission.objects.get(public_id=body["public_id"])
    ModelSubmission.objects.filter(pk=s.pk).update(
        status="done",
        fidelity_status="done",
        runtime_status="done",
        metrics={"psnr": 21.5, "ssim": 0.8},
        runtime_ms=12.0,
        score=7.0,
    )
    detail = client.get(f"{base}/submissions/{s.public_id}/").json()
    assert detail["status"] == "done" and detail["results"] is None  # hidden before the release
    assert client.get(f"{base}/leaderboard/").status_code == 403
    set_milestones(challenge, preliminary_results=-0.001)
    detail = client.get(f"{base}/submissions/{s.public_id}/").json()
    assert detail["results"]["psnr"] == 21.5 and detail["results"]["score"] == 7.0
    board = client.get(f"{base}/leaderboard/").json()
    assert board["rows"][0]["team"] == "Team Alpha" and board["rows"][0]["values"]["runtime_ms"] == 12.0
    client.logout()
    assert client.get(f"{base}/submissions/{s.public_id}/").status_code in (401, 403)


def test_a_refused_upload_shows_the_team_page_as_it_was(client, challenge, team, participant):
    """The page after a refused upload is the team's page (one context for both): the submission that
    counts is still marked, and the submissions left are the same."""
    measured(challenge, team, psnr=25.0, runtime_ms=10.0)
    home = reverse("finalphase:home", args=[challenge.workshop.slug, challenge.slug])
    submit = reverse("finalphase:submit", args=[challenge.workshop.slug, challenge.slug])
    client.force_login(participant)
    page = client.get(home)
    refused_page = client.post(submit, {"model": SimpleUploadedFile("model.tflite", b"\x00" * 100)})
    assert refused_page.status_code == 400
    for shown in (page, refused_page):
        rows = html.table(shown, data_testid="submissions")
        assert [row[-1] for row in rows] == ["counts"]
        assert html.text(shown, data_testid="left").startswith("2 of 3 submissions left")
    assert ModelSubmission.objects.filter(team=team).count() == 1


def test_reads_of_the_settings_store_nothing(client, challenge, team, participant):
    """A selector never writes: the team's page and `final_settings_for` show the defaults a track has
    before its organisers save settings, without creating the row; the service stores those defaults."""
    from challenges.finalphase.models import FinalPhaseSettings

    client.force_login(participant)
    page = client.get(reverse("finalphase:home", args=[challenge.workshop.slug, challenge.slug]))
    assert html.text(page, data_testid="left").startswith("3 of 3 submissions left")
    defaults = selectors.final_settings_for(challenge=challenge)
    assert not FinalPhaseSettings.objects.filter(challenge=challenge).exists()
    stored = scores.final_settings_get(challenge=challenge)
    assert stored.pk is not None and defaults.pk is None
    fields = ("score_formula", "constants", "max_submissions", "device_slug", "accelerator", "timed_runs")
    assert [getattr(defaults, f) for f in fields] == [getattr(stored, f) for f in fields]
