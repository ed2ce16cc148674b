"""The camera-ready through the pages its users take: the accepted author's paper page links the task;
the final PDF is uploaded (refused at once when encrypted, over 10 MB by its Content-Length or cut
mid-stream) and checked; the metadata is confirmed without touching the submission; the copyright form
is signed once, with a PDF receipt; reminders go once per paper and window; the chair's status page,
reminder confirmation and CSV; and every page as every role."""

import csv
import datetime as dt
import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from common.dispatch import ref_for
from common.models import Dispatch
from conference.cameraready import selectors, services
from conference.cameraready.models import CameraReady, CopyrightAgreement, FinalVersion
from conference.models import ImportantDate, OutgoingMail
from tests.html import cells, element, line_with, text

TASK = "/mai-cr/camera-ready/1/"


def _pdf(data: bytes, name: str = "final.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _messages(response) -> str:
    return text(response, "div", class_="messages") or ""


@pytest.fixture
def as_alice(client, alice, accepted):
    client.force_login(alice)
    return client


def test_the_accepted_authors_paper_page_leads_to_the_camera_ready(as_alice, accepted):
    page = as_alice.get("/mai-cr/papers/1/")
    assert element(page, "a", id="camera-ready-link").attrs["href"] == TASK
    assert text(page, id="camera-ready-task").startswith("Accepted: the camera-ready is due by ")
    task = as_alice.get(TASK)
    assert task.status_code == 200
    assert text(task, id="checklist-pdf") == "Final PDF: missing"
    assert text(task, id="checklist-metadata") == "Title, authors and abstract: not confirmed"
    assert text(task, id="checklist-copyright") == "IEEE copyright form: not signed"
    for field in ("id_pdf", "id_title", "id_abstract", "id_signer_name", "id_agreed", "id_authors-0-name"):
        assert element(task, "label", for_=field) is not None, field


def test_the_final_pdf_is_uploaded_checked_and_becomes_the_final_one(as_alice, accepted, final_pdfs):
    response = as_alice.post(
        TASK + "upload/", {"pdf": _pdf(final_pdfs["final_paper"].read_bytes())}, follow=True
    )
    assert _messages(response) == "Final PDF version 1 received; it is being checked."
    version = FinalVersion.objects.get()
    assert version.check_state == "pending" and selectors.final_pdf(accepted) is None
    services.final_version_check(version_id=version.pk)  # what the scoring worker runs
    page = as_alice.get(TASK)
    assert text(page, id="final-check-state") == "Passed"
    assert text(page, id="checklist-pdf") == "Final PDF: checked (version 1)"
    assert selectors.final_pdf(accepted).name == version.pdf.name
    mail = OutgoingMail.objects.filter(subject="[MAI CR #1] Camera-ready PDF check: passed").get()
    assert sorted(mail.to) == ["alice@ethz.example", "bruno@ethz.example", "chiara@ethz.example"]
    download = as_alice.get(TASK + "v1/pdf/")
    assert b"".join(download.streaming_content) == final_pdfs["final_paper"].read_bytes()


def test_the_review_version_is_refused_with_its_reason_and_the_good_one_stays(as_alice, accepted, final_pdfs):
    as_alice.post(TASK + "upload/", {"pdf": _pdf(final_pdfs["final_paper"].read_bytes())})
    services.final_version_check(version_id=FinalVersion.objects.get(number=1).pk)
    as_alice.post(TASK + "upload/", {"pdf": _pdf(final_pdfs["anonymous_review_version"].read_bytes())})
    services.final_version_check(version_id=FinalVersion.objects.get(number=2).pk)
    page = as_alice.get(TASK)
    assert text(page, id="final-check-state") == "Refused"
    assert cells(page, data_testid="check-anonymous")[2].startswith(
        "Page 1 still says “Anonymous CVPR submission”: this is the anonymous review version."
    )
    assert cells(page, data_testid="check-review_ruler")[1] == "Error"
    assert text(page, id="checklist-pdf") == "Final PDF: checked (version 1)"
    assert selectors.final_version_current(accepted).number == 1
    # The versions table keeps each refused version's reasons, also once a later version is uploaded.
    as_alice.post(TASK + "upload/", {"pdf": _pdf(final_pdfs["final_paper"].read_bytes())})
    services.final_version_check(version_id=FinalVersion.objects.get(number=3).pk)
    reasons = element(as_alice.get(TASK), data_testid="version-2-reasons")
    assert reasons.find("summary").text == "Refused"
    assert [li.text.split(":", 1)[0] for li in reasons.find_all("li")] == [
        "Review ruler",
        "Review header",
        "Authors named",
    ]


def test_an_encrypted_pdf_is_refused_at_once_and_nothing_is_stored(as_alice, final_pdfs):
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(final_pdfs["final_paper"]))
    writer.encrypt(user_password="", owner_password="owner-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    response = as_alice.post(TASK + "upload/", {"pdf": _pdf(buffer.getvalue())}, follow=True)
    assert "encrypted" in _messages(response) and _messages(response).endswith("Nothing was saved.")
    assert FinalVersion.objects.count() == 0


def test_a_30_megabyte_pdf_is_refused_before_its_body_is_read(as_alice, final_pdfs):
    big = final_pdfs["final_paper"].read_bytes() + b"%" + b"x" * (30 * 2**20)
    response = as_alice.post(TASK + "upload/", {"pdf": _pdf(big)}, follow=True)
    assert _messages(response).startswith("The upload is 30 MB: the final PDF may have at most 10 MB.")
    assert FinalVersion.objects.count() == 0


def test_a_file_growing_past_10_megabytes_is_cut_off_mid_stream(as_alice, final_pdfs):
    # 10.5 MB: within the body's slack, so the Content-Length passes; the handler cuts the file.
    grown = final_pdfs["final_paper"].read_bytes() + b"%" + b"x" * (10 * 2**20 + 2**19)
    response = as_alice.post(TASK + "upload/", {"pdf": _pdf(grown, "camera ready.pdf")}, follow=True)
    assert (
        _messages(response)
        == "The file “camera ready.pdf” is larger than 10 MB and was refused; nothing was saved."
    )
    assert FinalVersion.objects.count() == 0


def _metadata_post(
    title: str, authors: list[tuple[str, str, str]], abstract: str = "Final abstract."
) -> dict:
    data = {
        "title": title,
        "abstract": abstract,
        "authors-TOTAL_FORMS": str(len(authors) + 1),
        "authors-INITIAL_FORMS": str(len(authors)),
        "authors-MIN_NUM_FORMS": "0",
        "authors-MAX_NUM_FORMS": "30",
    }
    for index, (name, affiliation, email) in enumerate(authors):
        data |= {
            f"authors-{index}-name": name,
            f"authors-{index}-affiliation": affiliation,
            f"authors-{index}-email": email,
        }
    return data


def test_the_metadata_is_confirmed_without_touching_the_submission(as_alice, accepted):
    authors = [
        ("Bruno Keller", "ETH Zurich", "bruno@ethz.example"),
        ("Alice Martin", "ETH Zurich and Google", "alice@ethz.example"),
    ]
    response = as_alice.post(TASK + "metadata/", _metadata_post("Final Title for NPUs", authors), follow=True)
    assert _messages(response) == "The final title, authors and abstract are confirmed."
    assert text(response, id="metadata-state") == "Confirmed. The proceedings use exactly this."
    assert text(response, id="checklist-metadata") == "Title, authors and abstract: confirmed"
    accepted.refresh_from_db()
    assert accepted.title != "Final Title for NPUs"
    assert [a.name for a in accepted.authors.order_by("order")] == [
        "Alice Martin",
        "Bruno Keller",
        "Chiara Rossi",
    ]
    metadata = selectors.final_metadata(accepted)
    assert metadata["title"] == "Final Title for NPUs" and metadata["abstract"] == "Final abstract."
    assert metadata["authors"] == [
        {"name": "Bruno Keller", "affiliation": "ETH Zurich", "email": "bruno@ethz.example"},
        {"name": "Alice Martin", "affiliation": "ETH Zurich and Google", "email": "alice@ethz.example"},
    ]


def test_metadata_without_an_affiliation_is_refused_and_the_typed_values_stay(as_alice, accepted):
    response = as_alice.post(
        TASK + "metadata/", _metadata_post("Kept Title", [("Alice Martin", "", "alice@ethz.example")])
    )
    assert response.status_code == 400
    assert element(response, "input", id="id_title").attrs["value"] == "Kept Title"
    assert "This field is required." in text(response, id="final-authors")
    assert selectors.final_metadata(accepted)["confirmed"] is False


def _sign(client, **overrides):
    _licence, _text, version = selectors.agreement_text(overrides.pop("workshop"))
    data = {
        "signer_name": "Alice Martin",
        "on_behalf_of": "authors",
        "employer": "",
        "agreed": "on",
        "text_version": version,
        **overrides,
    }
    return client.post(TASK + "sign/", data, follow=True)


def test_the_copyright_form_is_signed_once_with_a_receipt(as_alice, accepted, edition):
    response = _sign(as_alice, workshop=edition)
    assert _messages(response) == "The form is signed; the receipt was e-mailed to every author."
    assert text(response, id="agreement-signed").startswith(
        "Signed by Alice Martin on behalf of all the authors, "
    )
    agreement = CopyrightAgreement.objects.get()
    assert agreement.licence == "ieee" and agreement.text.startswith("IEEE copyright transfer.")
    assert selectors.licence(accepted) == "IEEE copyright"
    receipt = as_alice.get(TASK + "receipt/")
    document = "\n".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(b"".join(receipt.streaming_content))).pages
    )
    assert line_with(document, "Signed by") == "Signed by Alice Martin"
    assert line_with(document, "Text version") == f"Text version {agreement.text_version}"
    mail = OutgoingMail.objects.get(subject="[MAI CR #1] IEEE copyright form signed")
    assert "The receipt (PDF): http" in mail.body and mail.body.split("The receipt (PDF): ")[1].split()[
        0
    ].endswith("/mai-cr/camera-ready/1/receipt/")
    # A second signature is refused, naming the first; nothing changes.
    again = as_alice.post(
        TASK + "sign/",
        {
            "signer_name": "Bruno Keller",
            "on_behalf_of": "employer",
            "employer": "ETH",
            "agreed": "on",
            "text_version": agreement.text_version,
        },
    )
    assert again.status_code == 400
    assert text(again, id="agreement-signed").startswith("Signed by Alice Martin")
    assert CopyrightAgreement.objects.get().signer_name == "Alice Martin"
    with pytest.raises(Exception, match="already signed by Alice Martin"):
        services.agreement_sign(
            paper=accepted,
            user=None,
            signer_name="Bruno Keller",
            on_behalf_of="authors",
            text_version=agreement.text_version,
            agreed=True,
            now=timezone.now(),
        )


def test_a_chair_voids_a_mistaken_signature_and_the_authors_sign_again(as_alice, accepted, edition, chair):
    _sign(as_alice, workshop=edition, signer_name="Alice Martn")  # a typo in the signature
    # Neither an author nor a chair without a reason can void it.
    assert as_alice.post(TASK + "void-agreement/", {"reason": "typo"}).status_code in (403, 404)
    chair_client = Client()
    chair_client.force_login(chair)
    page = chair_client.get(TASK)
    assert element(page, id="agreement-void").find("summary").text.startswith("Void this signature")
    refused = chair_client.post(TASK + "void-agreement/", {"reason": "  "}, follow=True)
    assert _messages(refused) == (
        "Say why the signature is voided; the authors receive the reason. Nothing was changed."
    )
    assert selectors.licence(accepted) == "IEEE copyright"
    voided = chair_client.post(TASK + "void-agreement/", {"reason": "The name is misspelt."}, follow=True)
    assert _messages(voided) == (
        "The form signed by Alice Martn is void; the authors were asked to sign again."
    )
    assert text(voided, id="checklist-copyright") == "IEEE copyright form: not signed"
    mail = OutgoingMail.objects.get(subject="[MAI CR #1] IEEE copyright form: please sign again")
    assert "Their reason: The name is misspelt." in mail.body
    # The authors sign again; the voided agreement is kept with who voided it and why.
    signed = _sign(as_alice, workshop=edition)
    assert text(signed, id="agreement-signed").startswith(
        "Signed by Alice Martin on behalf of all the authors"
    )
    old, new = CopyrightAgreement.objects.order_by("signed_at", "pk")
    assert (old.signer_name, old.voided_by, old.void_reason) == (
        "Alice Martn",
        chair,
        "The name is misspelt.",
    )
    assert (new.signer_name, new.voided_at) == ("Alice Martin", None)
    assert old.receipt.name != new.receipt.name and old.receipt.storage.exists(old.receipt.name)
    receipt = as_alice.get(TASK + "receipt/")
    document = "\n".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(b"".join(receipt.streaming_content))).pages
    )
    assert line_with(document, "Signed by") == "Signed by Alice Martin"
    # Nothing left to void twice.
    chair_client.post(TASK + "void-agreement/", {"reason": "Signed for the wrong employer."}, follow=True)
    again = chair_client.post(TASK + "void-agreement/", {"reason": "again"}, follow=True)
    assert _messages(again) == "Paper #1 has no signed form to void; nothing was changed."


def test_signing_needs_the_box_ticked_and_the_current_text(as_alice, accepted, edition, chair):
    refused = _sign(as_alice, workshop=edition, agreed="")
    assert "This field is required." in text(refused, id="agreement-form")
    services.camera_ready_settings_save(workshop=edition, licence="cc-by-4.0")
    stale = as_alice.post(
        TASK + "sign/",
        {
            "signer_name": "Alice Martin",
            "on_behalf_of": "authors",
            "agreed": "on",
            "text_version": "old-version",
        },
    )
    assert "The agreement text changed since the form was shown" in text(stale, id="agreement-form")
    assert CopyrightAgreement.objects.count() == 0
    assert text(as_alice.get(TASK), id="checklist-copyright") == "CC BY 4.0 form: not signed"


def test_reminders_go_once_a_week_and_once_a_day_before_the_deadline(accepted, rejected, edition):
    deadline = ImportantDate.objects.get(workshop=edition, kind="camera_ready").at
    assert services.reminders_send(now=deadline - dt.timedelta(days=8)) == {"week": 0, "day": 0}
    assert services.reminders_send(now=deadline - dt.timedelta(days=6)) == {"week": 1, "day": 0}
    assert services.reminders_send(now=deadline - dt.timedelta(days=5)) == {"week": 0, "day": 0}
    assert services.reminders_send(now=deadline - dt.timedelta(hours=20)) == {"week": 0, "day": 1}
    assert services.reminders_send(now=deadline - dt.timedelta(hours=2)) == {"week": 0, "day": 0}
    mails = OutgoingMail.objects.filter(subject__startswith="[MAI CR #1] Camera-ready due").order_by(
        "created_at"
    )
    assert [m.subject for m in mails] == [
        "[MAI CR #1] Camera-ready due in a week",
        "[MAI CR #1] Camera-ready due in a day",
    ]
    assert "Still missing: final PDF, metadata, copyright form." in mails[0].body
    assert not OutgoingMail.objects.filter(subject__startswith="[MAI CR #2]").exists()


def test_an_extended_deadline_gets_its_own_reminders(accepted, edition, chair):
    deadline = ImportantDate.objects.get(workshop=edition, kind="camera_ready").at
    assert services.reminders_send(now=deadline - dt.timedelta(days=6)) == {"week": 1, "day": 0}
    extended = deadline + dt.timedelta(days=10)
    services.extension_set(paper=accepted, until=extended, user=chair)
    assert services.reminders_send(now=deadline - dt.timedelta(hours=20)) == {"week": 0, "day": 0}
    assert services.reminders_send(now=extended - dt.timedelta(days=6)) == {"week": 1, "day": 0}
    assert services.reminders_send(now=extended - dt.timedelta(hours=20)) == {"week": 0, "day": 1}
    subjects = OutgoingMail.objects.filter(subject__startswith="[MAI CR #1] Camera-ready due").order_by(
        "created_at"
    )
    assert [m.subject for m in subjects] == [
        "[MAI CR #1] Camera-ready due in a week",
        "[MAI CR #1] Camera-ready due in a week",
        "[MAI CR #1] Camera-ready due in a day",
    ]


def test_an_extension_moves_the_deadline_of_one_paper(client, chair, accepted, edition):
    client.force_login(chair)
    response = client.post(TASK + "extend/", {"until": "2031-01-10T17:00"}, follow=True)
    assert _messages(response) == "The camera-ready deadline of paper #1 was extended."
    deadline = selectors.camera_ready_deadline(accepted)
    assert deadline == dt.datetime(2031, 1, 11, 1, 0, tzinfo=dt.UTC)  # 5pm Pacific (PST)
    assert "(extended for this paper)" in text(response, id="camera-ready-deadline")


def test_after_the_deadline_nothing_changes(as_alice, accepted, edition, final_pdfs):
    ImportantDate.objects.filter(workshop=edition, kind="camera_ready").update(
        at=timezone.now() - dt.timedelta(seconds=1)
    )
    page = as_alice.get(TASK)
    assert text(page, id="camera-ready-deadline").startswith("The deadline passed: ")
    assert element(page, "form", id="final-pdf-form") is None
    response = as_alice.post(
        TASK + "upload/", {"pdf": _pdf(final_pdfs["final_paper"].read_bytes())}, follow=True
    )
    assert _messages(response).startswith("The camera-ready deadline passed (")
    assert FinalVersion.objects.count() == 0


def test_the_chair_sees_the_status_reminds_the_missing_ones_and_exports_csv(
    client, chair, accepted, rejected, edition, alice
):
    services.metadata_confirm(
        paper=accepted,
        user=alice,
        title="Final",
        abstract="A.",
        now=timezone.now(),
        authors=[{"name": "Alice Martin", "affiliation": "ETH Zurich", "email": "alice@ethz.example"}],
    )
    client.force_login(chair)
    page = client.get("/mai-cr/camera-ready/")
    assert cells(page, data_testid="camera-ready-1")[2:5] == ["missing", "confirmed", "missing"]
    assert element(page, "tr", data_testid="camera-ready-2") is None  # rejected papers have no task
    assert text(page, id="count-metadata") == "1" and text(page, id="count-complete") == "0"
    confirm = client.get("/mai-cr/camera-ready/remind/")
    assert text(confirm, id="remind-papers") == "1"
    assert (
        text(confirm, id="remind-missing-pdf") == "1" and text(confirm, id="remind-missing-metadata") == "0"
    )
    shown_at = element(confirm, "input", name="shown_at").attrs["value"]
    done = client.post("/mai-cr/camera-ready/remind/", {"shown_at": shown_at}, follow=True)
    assert _messages(done) == "Reminded the authors of 1 paper."
    again = client.post("/mai-cr/camera-ready/remind/", {"shown_at": shown_at}, follow=True)  # a double click
    assert _messages(again) == "Reminded the authors of 0 papers."
    reminder = OutgoingMail.objects.get(subject="[MAI CR #1] Camera-ready: something is missing")
    assert "Still missing: final PDF, copyright form." in reminder.body
    export = client.get("/mai-cr/camera-ready/?format=csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:3] == ["number", "title", "deadline (UTC)"]
    assert rows[1][0] == "1" and rows[1][1] == "Final" and rows[1][4:7] == ["no", "yes", "no"]


PAGES_OF_PAPER = ["", "check/", "receipt/", "v1/pdf/"]
CHAIR_PAGES = ["/mai-cr/camera-ready/", "/mai-cr/camera-ready/remind/", "/mai-cr/camera-ready/?format=csv"]


def test_every_page_as_every_role(
    client, make_user, accepted, rejected, edition, chair, reviewer, alice, final_pdfs
):
    services.final_upload(
        paper=accepted, user=alice, pdf=_pdf(final_pdfs["final_paper"].read_bytes()), now=timezone.now()
    )
    services.agreement_sign(
        paper=accepted,
        user=alice,
        signer_name="Alice Martin",
        on_behalf_of="authors",
        text_version=selectors.agreement_text(edition)[2],
        agreed=True,
        now=timezone.now(),
    )
    dan = rejected.authors.get().user
    # role: (the paper's pages, the chair's pages, the author's metadata form posted, the signature voided)
    expected = {
        None: (302, 302, 302, 302),  # visitors are sent to log in
        reviewer: (404, 404, 404, 404),
        dan: (404, 404, 404, 404),  # an author of another (rejected) paper
        alice: (200, 404, 302, 403),
        chair: (
            200,
            200,
            403,
            302,
        ),  # the chair sees, extends, voids; never confirms or signs for the authors
    }
    for user, (paper_status, chair_status, post_status, void_status) in expected.items():
        client.logout()
        if user:
            client.force_login(user)
        for suffix in PAGES_OF_PAPER:
            assert client.get(TASK + suffix).status_code == paper_status, (user, suffix)
        for url in CHAIR_PAGES:
            assert client.get(url).status_code == chair_status, (user, url)
        post = client.post(TASK + "metadata/", _metadata_post("X", [("A", "B", "a@b.example")]))
        assert post.status_code == post_status, user
        assert client.post(TASK + "void-agreement/", {"reason": "x"}).status_code == void_status, user
        assert selectors.licence(accepted) == ("" if user == chair else "IEEE copyright"), user
    # A rejected paper has no camera-ready, even for its own author.
    client.force_login(dan)
    assert client.get("/mai-cr/camera-ready/2/").status_code == 404
    assert "camera-ready-link" not in client.get("/mai-cr/papers/2/").content.decode()
    assert CameraReady.objects.filter(paper=rejected).count() == 0


def test_a_lost_check_is_sent_again_then_refused_with_a_reason(accepted, alice, final_pdfs, settings):
    settings.PAPERS_CHECK_MAX_ATTEMPTS = 2
    version = services.final_upload(
        paper=accepted, user=alice, pdf=_pdf(final_pdfs["final_paper"].read_bytes()), now=timezone.now()
    )
    later = timezone.now() + dt.timedelta(hours=1)
    # Its message still waits for the broker: the dispatcher's, not the sweep's.
    assert services.final_versions_recheck_stale(now=later) == {"rechecked": 0, "failed": 0}
    Dispatch.objects.filter(ref=ref_for(version)).update(sent_at=timezone.now())  # sent, then lost
    assert services.final_versions_recheck_stale(now=later) == {"rechecked": 1, "failed": 0}
    Dispatch.objects.filter(ref=ref_for(version)).update(sent_at=timezone.now())
    assert services.final_versions_recheck_stale(now=later) == {"rechecked": 0, "failed": 1}
    version.refresh_from_db()
    assert version.check_state == "failed"
    assert version.check_report["items"][0]["message"] == (
        "The check of this PDF did not finish after 2 attempts; upload it again."
    )
