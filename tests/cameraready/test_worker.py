"""The camera-ready check as it runs on the site: the upload's message goes through the dispatch outbox
and Redis to a real Celery worker process on the `scoring` queue, which runs the sandboxed check and
records the verdict the author's page then shows."""

import pytest

from conference.cameraready.models import FinalVersion
from tests.cameraready.test_camera_ready import TASK, _pdf
from tests.conftest import wait_for
from tests.html import text


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_final_pdf_is_checked_by_a_worker(client, alice, accepted, final_pdfs, celery_worker):
    client.force_login(alice)
    client.post(TASK + "upload/", {"pdf": _pdf(final_pdfs["misnamed"].read_bytes())})
    version = wait_for(
        lambda: FinalVersion.objects.exclude(check_state="pending").first(), timeout=60, interval=0.2
    )
    assert version.check_state == "warnings"
    page = client.get(TASK)
    assert text(page, id="final-check-state") == "Passed with warnings"
    assert text(page, id="checklist-pdf") == "Final PDF: checked (version 1)"
