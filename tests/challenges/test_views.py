"""Pages and permissions: what a participant, another team, an organiser and a visitor each get,
including guessed URLs to ground truth and to other teams' files."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from challenges import selectors, services
from challenges.demo_data import results_for
from challenges.models import DataFile, Milestone, Submission
from tests import html as page_html

from .conftest import ground_truth_bytes, move

pytestmark = pytest.mark.django_db


def url(challenge, name="", **kwargs):
    base = f"/{challenge.workshop.slug}/challenges/{challenge.slug}/"
    return base + name


def scored(challenge, user, **kwargs):
    sub = services.submission_create(
        challenge=challenge,
        user=user,
        name="r.zip",
        data=results_for(challenge.result_format, ground_truth_bytes(challenge), **kwargs),
    )
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    return sub


def test_detail_page_timeline_now_marker_and_countdown(client, denoising):
    html = client.get(url(denoising)).content.decode()
    assert "Image Denoising" in html and "Samsung Exynos 2100, Mali GPU" in html
    assert 'id="now-marker"' in html
    # Now is in the validation phase: the marker sits right before "Final test data released".
    section = html[html.index('id="timeline-h"') :]
    marker = section.index('id="now-marker"')
    assert section.index("Validation server online") < marker < section.index("Final test data released")
    assert 'data-countdown="' in html and "Next: <strong>Final test data released</strong>" in html
    assert "Validation phase open" in html
    assert "PSNR" in html and "higher is better" in html
    assert "Validation leaderboard</a>" in html
    assert "final leaderboard public once preliminary results are released" in html


def test_final_leaderboard_link_only_for_those_the_leaderboard_page_admits(
    client, denoising, participant, now
):
    """After the release the final board is for the track's registered participants: a visitor is told so
    instead of being sent to a page that refuses them (a dead link on the track's page)."""
    move(denoising, Milestone.Kind.PRELIMINARY_RESULTS, now - dt.timedelta(hours=1))
    final_lb = url(denoising, "final/leaderboard/")

    visitor_page = client.get(url(denoising))
    line = page_html.element(visitor_page, "li", data_testid="final-phase-line")
    assert [a.attrs["href"] for a in line.find_all("a")] == [url(denoising, "final/")]
    assert line.text == (
        "Final phase: models, fact sheets and code · final results released to the track's registered participants"
    )
    assert client.get(final_lb).status_code == 403

    client.force_login(participant(denoising))
    member_page = client.get(url(denoising))
    line = page_html.element(member_page, "li", data_testid="final-phase-line")
    assert [a.attrs["href"] for a in line.find_all("a")] == [url(denoising, "final/"), final_lb]
    assert client.get(final_lb).status_code == 200


def test_markdown_description_is_sanitised(client, denoising):
    denoising.description = '**bold** <script>alert(1)</script> <a href="javascript:alert(1)">x</a>'
    denoising.save()
    html = client.get(url(denoising)).content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)" not in html and "javascript:alert" not in html


def test_register_through_the_page(client, denoising, make_user):
    user = make_user()
    client.force_login(user)
    response = client.post(url(denoising, "register/"), follow=True)
    assert "You must accept the terms" in response.content.decode()
    response = client.post(url(denoising, "register/"), {"accept_terms": "on"}, follow=True)
    assert "You are registered for Image Denoising." in response.content.decode()


def test_team_page_create_and_join(client, denoising, participant, make_user):
    leader = participant(denoising, team_name=None)
    client.force_login(leader)
    response = client.post(url(denoising, "team/create/"), {"name": "Night Owls"}, follow=True)
    html = response.content.decode()
    team = selectors.team_for(leader, denoising)
    assert team.name == "Night Owls" and team.join_code in html
    other = participant(denoising, team_name=None)
    client.force_login(other)
    response = client.post(url(denoising, "team/join/"), {"code": team.join_code}, follow=True)
    assert "You joined the team." in response.content.decode()
    assert selectors.team_for(other, denoising) == team


def test_data_downloads_by_release_and_ground_truth_never(client, denoising, participant, make_user):
    user = participant(denoising)
    client.force_login(user)
    files = {f.split: f for f in denoising.data_files.all()}
    response = client.get(url(denoising, f"data/{files['validation_input'].pk}/"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK" and response["Content-Disposition"].endswith('filename="validation_inputs.zip"')
    # Guessing the ids of ground truth (validation and test) and unreleased test inputs: 404, same as nothing.
    for split in ("validation_gt", "test_gt", "test_input"):
        assert client.get(url(denoising, f"data/{files[split].pk}/")).status_code == 404
    assert client.get(url(denoising, "data/999999/")).status_code == 404
    # The detail page does not even list ground truth to participants.
    html = client.get(url(denoising)).content.decode()
    assert "ground truth" not in html.lower()
    # A data file of another challenge, through this challenge's URL: 404.
    other = DataFile.objects.exclude(challenge=denoising).filter(split="train").first()
    assert client.get(url(denoising, f"data/{other.pk}/")).status_code == 404
    # Test inputs open at their milestone.
    move(denoising, Milestone.Kind.TEST_DATA, timezone.now() - dt.timedelta(seconds=1))
    assert client.get(url(denoising, f"data/{files['test_input'].pk}/")).status_code == 200
    assert client.get(url(denoising, f"data/{files['test_gt'].pk}/")).status_code == 404
    # A logged-in user who is not registered gets nothing.
    client.force_login(make_user())
    assert client.get(url(denoising, f"data/{files['train'].pk}/")).status_code == 404


def test_organiser_downloads_ground_truth_and_manages(client, denoising, make_user, participant):
    organiser = make_user()
    denoising.organisers.add(organiser)
    client.force_login(organiser)
    gt = denoising.data_files.get(split="validation_gt")
    response = client.get(url(denoising, f"data/{gt.pk}/"))
    assert b"".join(response.streaming_content) == ground_truth_bytes(denoising)
    pending = participant(denoising, team_name=None)
    reg = denoising.registrations.get(user=pending)
    reg.approved = False
    reg.save()
    html = client.get(url(denoising, "manage/")).content.decode()
    assert pending.email in html and "pending" in html
    client.post(url(denoising, f"manage/registrations/{reg.pk}/"), {"approved": "1"})
    reg.refresh_from_db()
    assert reg.approved
    # A participant cannot reach the management page or approve anyone.
    client.force_login(pending)
    assert client.get(url(denoising, "manage/")).status_code == 403
    assert (
        client.post(url(denoising, f"manage/registrations/{reg.pk}/"), {"approved": "0"}).status_code == 403
    )


def test_other_teams_submissions_are_not_reachable(client, denoising, participant):
    alice = participant(denoising, "Alice team")
    bob = participant(denoising, "Bob team")
    sub = scored(denoising, alice)
    client.force_login(bob)
    assert client.get(sub.get_absolute_url()).status_code == 404
    assert client.get(sub.get_absolute_url() + "status/").status_code == 404
    client.force_login(alice)
    scores = page_html.table(client.get(sub.get_absolute_url()), id="scores")
    assert scores[0][0] == "val_0001.png"
    assert scores[-1][:2] == ["Overall", f"{sub.scores['psnr']:.2f}"]
    # The stored file is in private storage, outside MEDIA_ROOT: no public URL serves it.
    from django.conf import settings

    assert not str(sub.file.path).startswith(str(settings.MEDIA_ROOT))


def test_submission_page_upload_limits_and_live_status(client, denoising, participant):
    denoising.submissions_per_day = 3
    denoising.save()
    user = participant(denoising, "Uploaders")
    client.force_login(user)
    assert page_html.text(client.get(url(denoising, "submissions/")), id="limits") == "3 of 3 left today"
    upload = io.BytesIO(results_for("images_zip", ground_truth_bytes(denoising)))
    upload.name = "results.zip"
    response = client.post(url(denoising, "submissions/"), {"file": upload, "method_name": "Tiny UNet"})
    sub = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == sub.get_absolute_url()
    status = client.get(sub.get_absolute_url() + "status/").content.decode()
    assert 'hx-trigger="every 1s"' in status and "Queued" in status  # polls while not finished
    services.submission_score(submission_id=sub.pk)
    status = client.get(sub.get_absolute_url() + "status/").content.decode()
    assert "hx-trigger" not in status and "Done" in status  # stops polling when done
    assert page_html.text(client.get(url(denoising, "submissions/")), id="limits") == "2 of 3 left today"
    empty = io.BytesIO(b"")
    empty.name = "results.zip"
    html = client.post(url(denoising, "submissions/"), {"file": empty}).content.decode()
    assert "The submitted file is empty." in html or "empty (0 bytes)" in html
    assert Submission.objects.count() == 1


def test_not_in_team_sees_clear_message(client, denoising, participant):
    user = participant(denoising, team_name=None)
    client.force_login(user)
    assert "You are not in a team" in client.get(url(denoising, "submissions/")).content.decode()


def test_leaderboard_page_csv_and_visibility(client, denoising, participant, make_user):
    a = participant(denoising, "Sharp")
    b = participant(denoising, "Blurry")
    good = scored(denoising, a, noise=2.0)
    bad = scored(denoising, b, noise=20.0)
    html = client.get(url(denoising, "leaderboard/")).content.decode()
    assert [row[:4] for row in page_html.table(html, id="leaderboard")] == [
        ["1", "Sharp", f"{good.scores['psnr']:.2f}", f"{good.scores['ssim']:.4f}"],
        ["2", "Blurry", f"{bad.scores['psnr']:.2f}", f"{bad.scores['ssim']:.4f}"],
    ]
    assert "↑" in html and "higher is better" in html
    response = client.get(url(denoising, "leaderboard.csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["rank", "team", "PSNR", "SSIM"]
    assert rows[1][:3] == ["1", "Sharp", f"{good.scores['psnr']:.2f}"]
    assert rows[2][:3] == ["2", "Blurry", f"{bad.scores['psnr']:.2f}"]
    # Before the validation server is online the leaderboard is hidden, except to organisers.
    move(denoising, Milestone.Kind.VALIDATION_SERVER, timezone.now() + dt.timedelta(hours=1))
    html = client.get(url(denoising, "leaderboard/")).content.decode()
    assert "not public yet" in html and "Sharp" not in html
    assert client.get(url(denoising, "leaderboard.csv")).status_code == 404
    organiser = make_user()
    denoising.organisers.add(organiser)
    client.force_login(organiser)
    assert "Sharp" in client.get(url(denoising, "leaderboard/")).content.decode()


def test_depth_leaderboard_lower_is_better_arrow(client, depth, participant):
    html = client.get(url(depth, "leaderboard/")).content.decode()
    assert "si-RMSE" in html and "↓" in html and "lower is better" in html


def test_organiser_uploads_data_and_bad_ground_truth_is_refused(client, denoising, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    organiser = make_user()
    denoising.organisers.add(organiser)
    client.force_login(organiser)
    response = client.post(
        url(denoising, "manage/"),
        {
            "split": "train",
            "title": "More training pairs",
            "upload": SimpleUploadedFile("more.zip", b"PK-data"),
        },
        follow=True,
    )
    assert "The data file was stored." in response.content.decode()
    stored = denoising.data_files.get(title="More training pairs")
    assert stored.size == 7 and stored.file.read() == b"PK-data"
    html = client.post(
        url(denoising, "manage/"),
        {"split": "validation_gt", "title": "Broken GT", "upload": SimpleUploadedFile("gt.zip", b"nope")},
    ).content.decode()
    assert "This ground truth cannot be scored against: The ground truth is not a valid zip archive." in html
    assert not denoising.data_files.filter(title="Broken GT").exists()
    html = client.post(url(denoising, "manage/"), {"split": "train", "title": "Nothing"}).content.decode()
    assert "Give either a file or an external URL." in html


def test_scoring_task_is_published_to_the_scoring_queue():
    from celery.signals import before_task_publish

    from challenges.tasks import score_submission

    seen = []

    def record(sender=None, routing_key=None, **kwargs):
        seen.append((sender, routing_key))

    before_task_publish.connect(record)
    try:
        score_submission.delay(0)  # no such submission: a worker that gets it answers "missing"
    finally:
        before_task_publish.disconnect(record)
    assert seen == [("challenges.score_submission", "scoring")]


def test_oversized_upload_refused_from_the_header(client, denoising, participant):
    denoising.max_upload_mb = 1
    denoising.save()
    user = participant(denoising)
    client.force_login(user)
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))
    big.name = "results.zip"
    response = client.post(url(denoising, "submissions/"), {"file": big}, follow=True)
    messages = [m.message for m in response.context["messages"]]
    assert messages == ["The upload is 3 MB; at most 1 MB is accepted here. Nothing was read or saved."]
    # Under the header's limit (the body may carry other fields) but over the file's: cut mid-stream.
    big = io.BytesIO(b"x" * (1536 * 1024))
    big.name = "results.zip"
    response = client.post(url(denoising, "submissions/"), {"file": big}, follow=True)
    messages = [m.message for m in response.context["messages"]]
    assert messages == ["The file “results.zip” is larger than 1 MB and was refused; nothing was saved."]
    assert not Submission.objects.exists()


def test_manage_lists_recent_submissions_with_reasons(client, denoising, participant, make_user):
    user = participant(denoising, "Failing")
    sub = services.submission_create(
        challenge=denoising,
        user=user,
        name="r.zip",
        data=results_for("images_zip", ground_truth_bytes(denoising)),
    )
    Submission.objects.filter(pk=sub.pk).update(status="failed", error="“x.png” is not a readable PNG image")
    organiser = make_user()
    denoising.organisers.add(organiser)
    client.force_login(organiser)
    html = client.get(url(denoising, "manage/")).content.decode()
    recent = html[html.index('id="recent"') :]
    assert "Failing" in recent and "is not a readable PNG image" in recent


def test_external_data_redirects_once_released(client, denoising, participant):
    ext = services.data_file_create(
        challenge=denoising,
        split="test_input",
        title="Full test set",
        external_url="https://data.example.org/test.zip",
    )
    client.force_login(participant(denoising))
    assert client.get(url(denoising, f"data/{ext.pk}/")).status_code == 404  # test inputs not released yet
    move(denoising, Milestone.Kind.TEST_DATA, timezone.now())
    response = client.get(url(denoising, f"data/{ext.pk}/"))
    assert response.status_code == 302 and response["Location"] == "https://data.example.org/test.zip"
