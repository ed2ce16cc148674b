"""Registration, teams, data files, submissions with their limits, and the scoring state machine."""

import datetime as dt

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from challenges import selectors, services
from challenges.demo_data import png_bytes, results_for, zip_bytes
from challenges.models import Milestone, Registration, Submission, Team
from common.models import Dispatch
from conference.models import OutgoingMail

from .conftest import ground_truth_bytes, move

pytestmark = pytest.mark.django_db


def submit(challenge, user, data=None, name="results.zip", **kwargs):
    data = results_for(challenge.result_format, ground_truth_bytes(challenge)) if data is None else data
    return services.submission_create(challenge=challenge, user=user, name=name, data=data, **kwargs)


def test_register_requires_terms_and_open_registration(denoising, make_user):
    user = make_user()
    with pytest.raises(services.ChallengeError, match="accept the terms"):
        services.challenge_register(challenge=denoising, user=user, accept_terms=False)
    assert not Registration.objects.exists()
    website = denoising.milestones.get(kind=Milestone.Kind.WEBSITE_ONLINE).at
    with pytest.raises(services.ChallengeError, match="Registration for this challenge is closed"):
        services.challenge_register(
            challenge=denoising, user=user, accept_terms=True, now=website - dt.timedelta(seconds=1)
        )
    reg = services.challenge_register(challenge=denoising, user=user, accept_terms=True)
    assert reg.approved and reg.accepted_terms_at is not None


def test_approval_required_blocks_teams_until_approved(denoising, make_user):
    organiser = make_user(email="org@mai.example")
    denoising.organisers.add(organiser)
    denoising.requires_approval = True
    denoising.save()
    user = make_user(email="p@uni.example")
    reg = services.challenge_register(challenge=denoising, user=user, accept_terms=True)
    assert not reg.approved
    to_approve = OutgoingMail.objects.get(to=["org@mai.example"], subject__contains="Registration to approve")
    assert to_approve.body == f"p@uni.example registered for {denoising.title} and awaits your approval."
    with pytest.raises(services.ChallengeError, match="awaits the organisers' approval"):
        services.team_create(challenge=denoising, user=user, name="Blue")
    services.registration_approve(registration=reg)
    approved = OutgoingMail.objects.get(to=["p@uni.example"], subject__contains="approved")
    assert approved.body == (
        f"Your registration for {denoising.title} was approved. You can now form a team, download the "
        "data and submit results."
    )
    assert services.team_create(challenge=denoising, user=user, name="Blue").name == "Blue"


def test_teams_join_code_size_limit_and_unique_names(denoising, participant):
    denoising.max_team_size = 2
    denoising.save()
    leader = participant(denoising, "Pixel Wizards")
    team = selectors.team_for(leader, denoising)
    with pytest.raises(services.ChallengeError, match="already exists"):
        participant(denoising, "pixel wizards")
    second = participant(denoising, team_name=None)
    with pytest.raises(
        services.ChallengeError, match="no team of this challenge has that join code".capitalize()
    ):
        services.team_join(challenge=denoising, user=second, code="nope")
    assert services.team_join(challenge=denoising, user=second, code=team.join_code) == team
    third = participant(denoising, team_name=None)
    with pytest.raises(services.ChallengeError, match="is full \\(2 members at most\\)"):
        services.team_join(challenge=denoising, user=third, code=team.join_code)
    with pytest.raises(services.ChallengeError, match="already in"):
        services.team_create(challenge=denoising, user=second, name="Other")
    services.team_leave(challenge=denoising, user=leader)
    team.refresh_from_db()
    assert [m.user for m in team.memberships.all()] == [second]
    assert team.memberships.get().role == "leader"


def test_invitation_by_email(denoising, participant, make_user):
    leader = participant(denoising, "Invite Team")
    team = selectors.team_for(leader, denoising)
    invitation = services.team_invite(team=team, by=leader, email="Friend@Uni.example")
    mail = OutgoingMail.objects.get(to=["friend@uni.example"])
    assert invitation.token in mail.body and team.join_code in mail.body
    assert mail.body.startswith(
        f"{leader.email} invites you to the team “{team.name}” of the {denoising.title}"
    )
    friend = make_user(email="friend@uni.example")
    with pytest.raises(services.ChallengeError, match="Register for this challenge first"):
        services.team_invitation_accept(token=invitation.token, user=friend)
    services.challenge_register(challenge=denoising, user=friend, accept_terms=True)
    assert services.team_invitation_accept(token=invitation.token, user=friend) == team
    with pytest.raises(services.ChallengeError, match="already been used"):
        services.team_invitation_accept(token=invitation.token, user=friend)


def test_a_team_invitation_link_works_only_for_the_invited_address(denoising, participant, make_user):
    leader = participant(denoising, "Bound Team")
    team = selectors.team_for(leader, denoising)
    invitation = services.team_invite(team=team, by=leader, email="friend@uni.example")
    stranger = make_user(email="stranger@elsewhere.example")
    services.challenge_register(challenge=denoising, user=stranger, accept_terms=True)
    with pytest.raises(services.ChallengeError, match="This invitation is for friend@uni.example"):
        services.team_invitation_accept(token=invitation.token, user=stranger)
    assert not team.memberships.filter(user=stranger).exists()
    friend = make_user(email="friend@uni.example")
    services.challenge_register(challenge=denoising, user=friend, accept_terms=True)
    assert services.team_invitation_accept(token=invitation.token, user=friend) == team


def test_teams_frozen_after_final_deadline(denoising, participant):
    leader = participant(denoising, "Late")
    move(denoising, Milestone.Kind.FINAL_DEADLINE, timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(services.ChallengeError, match="final deadline has passed"):
        services.team_leave(challenge=denoising, user=leader)


def test_submission_scored_and_limits_count_only_non_failed(denoising, participant):
    denoising.submissions_per_day = 2
    denoising.save()
    user = participant(denoising, "Scorers")
    team = selectors.team_for(user, denoising)
    sub = submit(denoising, user, method_name="UNet-lite")
    assert sub.status == Submission.Status.QUEUED
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "done" and len(sub.per_file) == 3
    assert 25 < sub.scores["psnr"] < 40 and 0 < sub.scores["ssim"] < 1
    limits = selectors.submission_limits(team=team, challenge=denoising)
    assert str(limits).startswith("1 of 2 left today")

    good = png_bytes(np.zeros((32, 48, 3), np.uint8))
    corrupt = zip_bytes({"val_0001.png": good, "val_0002.png": good, "val_0003.png": good[:50]})
    bad = submit(denoising, user, data=corrupt)
    services.submission_score(submission_id=bad.pk)
    bad.refresh_from_db()
    assert (bad.status, bad.error) == (
        "failed",
        "“val_0003.png” is not a readable PNG image (corrupt or truncated).",
    )
    assert selectors.submission_limits(team=team, challenge=denoising).left_today == 1  # failed: not counted

    submit(denoising, user)
    with pytest.raises(services.ChallengeError, match="used all 2 submissions for today"):
        submit(denoising, user)
    # Tomorrow the daily allowance is back.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert selectors.submission_limits(team=team, challenge=denoising, now=tomorrow).left_today == 2
    denoising.submissions_total = 2
    denoising.save()
    with pytest.raises(services.ChallengeError, match="used all 2 submissions of this phase"):
        submit(denoising, user, now=tomorrow)


def test_scoring_is_idempotent(denoising, participant):
    user = participant(denoising)
    sub = submit(denoising, user)
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    finished, scores = sub.finished_at, sub.scores
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.finished_at == finished and sub.scores == scores


@pytest.mark.parametrize(
    ("case", "kwargs", "message"),
    [
        ("empty", {"data": b""}, "empty \\(0 bytes\\)"),
        ("wrong type", {"data": b"x", "name": "results.rar"}, "takes a .zip file"),
        ("missing", {"data": b"PK\x05\x06" + b"\0" * 18}, "holds no files"),
    ],
)
def test_bad_uploads_store_nothing(denoising, participant, case, kwargs, message):
    user = participant(denoising)
    with pytest.raises(services.ChallengeError, match=message):
        submit(denoising, user, **kwargs)
    assert not Submission.objects.exists()


def test_missing_files_reported_by_scorer(denoising, participant):
    user = participant(denoising)
    sub = submit(
        denoising, user, data=zip_bytes({"val_0001.png": png_bytes(np.zeros((32, 48, 3), np.uint8))})
    )
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "failed"
    assert sub.error == (
        "The results do not match the inputs: missing 2 file(s): val_0002.png, val_0003.png."
    )


def test_closed_phase_and_not_in_team(denoising, participant):
    loner = participant(denoising, team_name=None)
    with pytest.raises(services.ChallengeError, match="Join or create a team first"):
        submit(denoising, loner)
    user = participant(denoising, "Closed")
    test_data = denoising.milestones.get(kind=Milestone.Kind.TEST_DATA).at
    with pytest.raises(services.ChallengeError, match="The validation phase closed at .*, just now"):
        submit(denoising, user, now=test_data)
    assert submit(denoising, user, now=test_data - dt.timedelta(seconds=1)).pk


def test_depth_and_classification_tracks_score(depth, scenes, participant):
    user = participant(depth, "Deep")
    sub = submit(depth, user, name="depth.npz")
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "done" and 0 < sub.scores["si_rmse"] < 0.2
    user2 = participant(scenes, "Scenes")
    sub = submit(scenes, user2, name="predictions.csv")
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    # results_for() puts the label first on even rows and second on odd rows: 3 of 6 top-1, all top-3.
    assert sub.scores == {"top1": 50.0, "top3": 100.0}


def test_data_file_create(denoising):
    f = services.data_file_create(
        challenge=denoising, split="train", title="Extra", upload=SimpleUploadedFile("extra.zip", b"abc")
    )
    assert f.size == 3 and f.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert "/data/train/" in f.file.name and f.file.storage.location.endswith("private")
    with pytest.raises(services.ChallengeError, match="never linked"):
        services.data_file_create(
            challenge=denoising, split="validation_gt", title="GT", external_url="https://example.org/gt.zip"
        )
    ext = services.data_file_create(
        challenge=denoising, split="train", title="Big", external_url="https://example.org/big.zip"
    )
    assert ext.external_url and not ext.file


def test_leaderboard_best_latest_and_ties(denoising, participant):

    a = participant(denoising, "Alpha")
    b = participant(denoising, "Bravo")
    c = participant(denoising, "Charlie")
    base = timezone.now()

    def done(user, psnr, ssim, minutes):
        team = Team.objects.get(memberships__user=user)
        s = Submission.objects.create(
            challenge=denoising,
            team=team,
            file="x",
            original_name="r.zip",
            status="done",
            scores={"psnr": psnr, "ssim": ssim},
        )
        Submission.objects.filter(pk=s.pk).update(created_at=base + dt.timedelta(minutes=minutes))

    done(a, 30.0, 0.90, 1)
    done(a, 28.0, 0.95, 5)  # Alpha's latest, worse PSNR
    done(b, 30.0, 0.90, 2)  # ties Alpha's best exactly, but later
    done(c, 29.0, 0.99, 3)
    rows = selectors.leaderboard_validation(challenge=denoising)
    assert [(r.rank, r.team, r.scores["psnr"]) for r in rows] == [
        (1, "Alpha", 30.0),
        (2, "Bravo", 30.0),
        (3, "Charlie", 29.0),
    ]
    denoising.leaderboard_policy = "latest"
    denoising.save()
    rows = selectors.leaderboard_validation(challenge=denoising)
    assert [(r.team, r.scores["psnr"]) for r in rows] == [("Bravo", 30.0), ("Charlie", 29.0), ("Alpha", 28.0)]
    # Lower-is-better metrics rank the other way.
    denoising.metrics = [{"key": "psnr", "label": "err", "higher_is_better": False, "precision": 1}]
    denoising.leaderboard_policy = "best"
    denoising.save()
    assert [r.team for r in selectors.leaderboard_validation(challenge=denoising)] == [
        "Alpha",
        "Charlie",
        "Bravo",
    ]
    assert Team.objects.count() == 3


def test_stale_submissions_requeued_then_failed(denoising, participant):
    user = participant(denoising)
    sub = submit(denoising, user)
    now = timezone.now()
    # Its message still waits in the outbox (the test's transaction never commits): the dispatcher's.
    Submission.objects.filter(pk=sub.pk).update(created_at=now - dt.timedelta(minutes=3))
    assert services.submission_requeue_stale(now=now) == []
    Dispatch.objects.filter(sent_at__isnull=True).update(sent_at=now - dt.timedelta(minutes=3))
    assert services.submission_requeue_stale(now=now - dt.timedelta(minutes=2)) == []  # fresh: left alone
    assert services.submission_requeue_stale(now=now) == [sub.pk]  # message sent 3 minutes ago, lost
    Dispatch.objects.filter(sent_at__isnull=True).update(sent_at=now - dt.timedelta(minutes=3))
    Submission.objects.filter(pk=sub.pk).update(
        status="scoring", attempts=1, started_at=now - dt.timedelta(minutes=11)
    )
    assert services.submission_requeue_stale(now=now) == [sub.pk]
    sub.refresh_from_db()
    assert sub.status == "queued"
    Dispatch.objects.filter(sent_at__isnull=True).update(sent_at=now - dt.timedelta(minutes=3))
    Submission.objects.filter(pk=sub.pk).update(
        status="scoring", attempts=3, started_at=now - dt.timedelta(minutes=11)
    )
    assert services.submission_requeue_stale(now=now) == []
    sub.refresh_from_db()
    assert sub.status == "failed" and "did not finish after 3 attempts" in sub.error
    # A finished scoring of a requeued submission is still scored once: the state machine runs.
    Submission.objects.filter(pk=sub.pk).update(status="queued", attempts=1)
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "done" and sub.attempts == 2
