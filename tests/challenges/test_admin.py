"""The organisers' admin action "Score again" goes through the same service and outbox as a
participant's upload: the submission is queued again and its message committed with it."""

import pytest
from django.contrib.auth import get_user_model

from challenges import services
from challenges.models import Submission
from common.models import Dispatch
from tests.challenges.test_services import submit

pytestmark = pytest.mark.django_db


def test_score_again_queues_through_the_outbox(client, denoising, participant):
    user = participant(denoising, "Rescored")
    sub = submit(denoising, user)
    services.submission_score(submission_id=sub.pk)
    Submission.objects.filter(pk=sub.pk).update(
        status=Submission.Status.FAILED, error="ground truth was wrong"
    )
    before = Dispatch.objects.filter(ref=f"challenges.submission:{sub.pk}").count()
    admin = get_user_model().objects.create_superuser("root@example.org", "root@example.org", "x")
    client.force_login(admin)
    response = client.post(
        "/admin/challenges/submission/", {"action": "rescore", "_selected_action": [sub.pk]}, follow=True
    )
    assert "1 submission(s) queued to be scored again." in [m.message for m in response.context["messages"]]
    sub.refresh_from_db()
    assert (sub.status, sub.error) == ("queued", "")
    assert Dispatch.objects.filter(ref=f"challenges.submission:{sub.pk}").count() == before + 1
