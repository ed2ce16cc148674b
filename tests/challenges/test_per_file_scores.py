"""Per-file validation scores: shown for PSNR-like metrics, hidden by default where they would reveal
each hidden label (top-1 per file says whether the file's label was guessed), an organiser's choice."""

import pytest

from challenges import services
from challenges.models import Challenge
from tests import html
from tests.challenges.conftest import ground_truth_bytes
from tests.challenges.test_services import results_for

pytestmark = pytest.mark.django_db


def scored(challenge, user):
    data = results_for(challenge.result_format, ground_truth_bytes(challenge))
    name = "results.csv" if challenge.result_format == "csv" else "results.zip"
    sub = services.submission_create(challenge=challenge, user=user, name=name, data=data)
    services.submission_score(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == "done"
    return sub


def score_table(client, sub) -> tuple[list[str], str]:
    """The file names in the scores table's body, and the table's first header cell."""
    table = html.element(client.get(sub.get_absolute_url()), "table", id="scores")
    body = table.find("tbody")
    return [row[0] for row in body.rows()] if body else [], table.find("th").text


def test_label_revealing_scores_are_hidden_by_default_and_shown_on_request(
    client, scenes, denoising, participant
):
    user = participant(scenes, "Scenes")
    services.challenge_register(challenge=denoising, user=user, accept_terms=True)
    services.team_create(challenge=denoising, user=user, name="Denoisers")
    client.force_login(user)

    scene_sub = scored(scenes, user)
    assert len(scene_sub.per_file) > 0  # kept for the organisers
    assert score_table(client, scene_sub) == ([], "Results")
    api = client.get(
        f"/api/challenges/{scenes.workshop.slug}/{scenes.slug}/submissions/{scene_sub.public_id}/"
    )
    assert api.json()["per_file"] == []

    denoise_sub = scored(denoising, user)
    names, first = score_table(client, denoise_sub)
    assert first == "File" and names == [row["name"] for row in denoise_sub.per_file]

    scenes.per_file_scores = Challenge.PerFileScores.SHOWN
    scenes.save()
    assert score_table(client, scene_sub)[0] == [row["name"] for row in scene_sub.per_file]
