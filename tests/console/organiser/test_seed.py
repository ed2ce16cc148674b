"""The live demo edition shows every phase without the admin: its tracks sit in the validation phase,
the final phase and with results released, each with seeded, scored submissions; its papers are
submitted, under review, decided and released; seeding twice adds nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from challenges import timeline
from challenges.finalphase.models import ModelSubmission
from challenges.models import Challenge, Submission
from challenges.selectors import timeline_for
from tests.html import element, table, text

pytestmark = pytest.mark.django_db


def seed_editions_and_challenges():
    """The seeds this part owns, after the editions they fill (what `manage.py seed_demo` runs)."""
    from challenges.finalphase.seed import seed_demo as seed_final
    from challenges.seed import seed_demo as seed_challenges
    from conference.seed import seed_demo as seed_conference

    seed_conference()
    seed_challenges()
    seed_final()


def test_live_tracks_and_papers_sit_in_every_phase_and_state():
    from conference.models import Paper
    from conference.reviewing.models import Assignment, Decision, Review
    from conference.reviewing.seed import seed_demo as seed_reviewing

    seed_editions_and_challenges()
    seed_reviewing()
    tracks = {c.slug: c for c in Challenge.objects.filter(workshop__slug="mai-live")}
    now = timezone.now()
    phases = {slug: timeline.phase_open(timeline_for(c), now) for slug, c in tracks.items()}
    assert phases["learned-isp"] == timeline.Phase.VALIDATION
    assert phases["image-denoising"] == timeline.Phase.VALIDATION
    assert phases["video-sr"] == timeline.Phase.FINAL
    assert phases["quantized-sr"] is None
    released = timeline_for(tracks["quantized-sr"])
    assert timeline.leaderboard_visible(released, timeline.Phase.FINAL, now)
    assert not timeline.leaderboard_visible(timeline_for(tracks["video-sr"]), timeline.Phase.FINAL, now)

    for slug in ("learned-isp", "video-sr", "quantized-sr"):
        done = Submission.objects.filter(challenge=tracks[slug], status="done")
        assert done.count() == 2 and all(s.scores["psnr"] > 20 for s in done), slug
    assert not Submission.objects.filter(challenge=tracks["image-denoising"]).exists()
    finals = ModelSubmission.objects.filter(challenge__in=[tracks["video-sr"], tracks["quantized-sr"]])
    assert finals.count() == 4 and all(s.score and s.score > 0 for s in finals)

    # A participant sees the released final leaderboard, both teams ranked; anyone the validation board.
    client = Client()
    client.force_login(Submission.objects.filter(challenge=tracks["quantized-sr"]).first().submitted_by)
    board = client.get("/mai-live/challenges/quantized-sr/final/leaderboard/")
    rows = table(board, data_testid="final-leaderboard")
    assert [row[0] for row in rows] == ["1", "2"]
    validation = client.get("/mai-live/challenges/learned-isp/leaderboard/")
    assert len(table(validation, id="leaderboard")) == 2
    # The same demo participant's final board of the track still in its final phase stays hidden.
    assert client.get("/mai-live/challenges/video-sr/final/leaderboard/").status_code == 403
    # Someone not registered on the released track is told the results went to its participants.
    outsider = Client()
    outsider.force_login(get_user_model().objects.get(email="participant@example.com"))
    hidden = outsider.get("/mai-live/challenges/quantized-sr/final/leaderboard/")
    assert hidden.status_code == 403
    assert "to this track's registered participants only; you are not one of them." in text(
        hidden, data_testid="leaderboard-hidden"
    )

    # A seeded final submission has demo figures and no model file: no download link to a 404.
    organiser = Client()
    organiser.force_login(get_user_model().objects.get(email="chair@example.com"))
    final = finals.filter(challenge=tracks["video-sr"]).first()
    page = organiser.get(f"/mai-live/challenges/video-sr/final/submissions/{final.public_id}/")
    assert text(page, data_testid="no-model-stored") == "demo figures, no model stored"
    assert (
        element(page, "a", href=f"/mai-live/challenges/video-sr/final/submissions/{final.public_id}/model/")
        is None
    )
    # The track in its validation phase has one failed try, with the scorer's own reason and a way out.
    dashboard = organiser.get("/mai-live/challenges/learned-isp/manage/")
    assert table(dashboard, id="failures")[0][1:] == [
        "Edge Lords",
        "Validation",
        "“val_0001.png” is not a readable PNG image (corrupt or truncated).",
    ]
    assert element(dashboard, data_testid="rescore-failed") is not None

    # The live papers, one in each state.
    papers = {p.number: p for p in Paper.objects.filter(workshop__slug="mai-live")}
    assert {n: p.status for n, p in papers.items()} == {
        1: "submitted",
        2: "submitted",
        3: "submitted",
        4: "accepted",
    }
    assert not Assignment.objects.filter(paper=papers[1]).exists()
    under_review = Review.objects.filter(assignment__paper=papers[2])
    assert sorted(under_review.values_list("state", flat=True)) == ["draft", "submitted"]
    assert under_review.get(state="draft").assignment.user.email == "reviewer@example.com"
    assert Decision.objects.get(paper=papers[3]).released_at is None
    assert Decision.objects.get(paper=papers[4]).released_at is not None

    # Seeding again adds nothing.
    before = [model.objects.count() for model in (Submission, ModelSubmission, Challenge, Assignment, Review)]
    seed_editions_and_challenges()
    seed_reviewing()
    assert [
        model.objects.count() for model in (Submission, ModelSubmission, Challenge, Assignment, Review)
    ] == before
