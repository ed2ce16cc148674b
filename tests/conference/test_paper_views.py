"""The paper pages through Django's test client: submit, bad input, permissions, edit, withdraw, the
chairs' list (filters, counts, CSV) and extensions."""

import csv
import datetime as dt
import io
import re
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from common.uploads import format_size
from conference import services
from conference.models import ImportantDate, OutgoingMail, Paper, PaperVersion
from tests import html, pdf_factory
from tests.conference import paper_fixtures
from tests.conference.paper_fixtures import pdf_upload
from tests.factories import PaperAuthorFactory, PaperFactory

edition, author, chair = paper_fixtures.edition, paper_fixtures.author, paper_fixtures.chair
pytestmark = pytest.mark.django_db
SUBMIT = "/mai-test/papers/submit/"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_data(edition, user, **overrides) -> dict:
    data = {
        "title": "Fast ISP on phones",
        "abstract": "We make ISPs fast.",
        "topics": [edition.topics.first().pk],
        "kind": "regular",
        "challenge": "",
        "pdf": pdf_upload(),
        "submission_token": str(uuid.uuid4()),
        "authors-TOTAL_FORMS": "3",
        "authors-INITIAL_FORMS": "0",
        "authors-MIN_NUM_FORMS": "0",
        "authors-MAX_NUM_FORMS": "40",
        "authors-0-name": "Alex Author",
        "authors-0-email": user.email,
        "authors-0-affiliation": "Institute of Mobile Vision",
        "authors-1-name": "Bo Coauthor",
        "authors-1-email": "bo@elsewhere.example",
        "authors-1-affiliation": "Elsewhere Lab",
        "authors-2-name": "",
        "authors-2-email": "",
        "authors-2-affiliation": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def signed_in(client, author):
    client.force_login(author)
    return client


@pytest.fixture
def paper(signed_in, edition, author):
    response = signed_in.post(SUBMIT, form_data(edition, author))
    assert response.status_code == 302, text(response)
    paper = Paper.objects.get()
    services.paper_version_check(version_id=paper.versions.get().pk)
    paper.refresh_from_db()
    return paper


def test_submitting_creates_paper_one_and_shows_the_check_report(signed_in, edition, author):
    form = text(signed_in.get(SUBMIT))
    assert "Submit a paper to MAI Test" in form
    assert 'value="Alex Author"' in form  # the submitter is the first author
    assert "CVPR 2030 submission ID" in form
    response = signed_in.post(SUBMIT, form_data(edition, author))
    assert response["Location"] == "/mai-test/papers/1/"
    page = text(signed_in.get("/mai-test/papers/1/"))
    assert "Paper #1 was received; its PDF is being checked." in page
    assert "PDF version 1 is being checked" in page
    assert 'hx-trigger="every 1s"' in page
    services.paper_version_check(version_id=PaperVersion.objects.get().pk)
    fragment = text(signed_in.get("/mai-test/papers/1/check/"))
    assert "hx-trigger" not in fragment  # polling stops once the result is there
    assert "6 of at most 8 pages (references start on page 7)." in fragment
    assert "Passed" in fragment
    page = text(signed_in.get("/mai-test/papers/1/"))
    assert "Submitted" in page and "Bo Coauthor (Elsewhere Lab)" in page and "invited" in page


def test_the_same_form_posted_twice_creates_one_paper(signed_in, edition, author):
    data = form_data(edition, author)
    signed_in.post(SUBMIT, data)
    data["pdf"] = pdf_upload()
    response = signed_in.post(SUBMIT, data, follow=True)
    assert Paper.objects.count() == 1
    assert "This form was already sent: it created paper #1." in text(response)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: pdf_upload(pdf_factory.not_a_pdf(), name="photo.pdf"), "This file is not a PDF"),
        (lambda: pdf_upload(pdf_factory.encrypted_pdf()), "The PDF is encrypted"),
        (lambda: pdf_upload(b"", name="empty.pdf"), "The submitted file is empty."),
        (lambda: pdf_upload(pdf_factory.corrupt_pdf()), "The PDF is damaged and cannot be read"),
        (
            lambda: pdf_upload(pdf_factory.blank_pages_pdf(500)),
            "The PDF has 500 pages; files of more than 60 pages are refused.",
        ),
        (lambda: pdf_upload(name="paper.docx"), "Upload a PDF file (name ending in .pdf)."),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_the_form_is_kept(
    signed_in, edition, author, upload, message
):
    response = signed_in.post(SUBMIT, form_data(edition, author, pdf=upload(), title="Keep my title"))
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'value="Keep my title"' in page
    assert Paper.objects.count() == 0


def test_bad_fields_are_refused(signed_in, edition, author):
    response = signed_in.post(
        SUBMIT,
        form_data(
            edition,
            author,
            title="x" * 10_000,
            **{"authors-1-email": "bo at elsewhere"},
            kind="challenge",
            dual_submission="on",
        ),
    )
    page = text(response)
    assert "Ensure this value has at most 300 characters (it has 10000)." in page
    assert "Enter a valid email address." in page
    assert "A challenge paper names its challenge." in page
    assert "Give the main-conference submission ID." in page
    assert Paper.objects.count() == 0


def test_the_submitter_must_be_an_author(signed_in, edition, author):
    response = signed_in.post(
        SUBMIT, form_data(edition, author, **{"authors-0-email": "someone@else.example"})
    )
    assert "You must be one of the authors" in text(response)


def test_script_in_the_abstract_is_stored_as_text_and_shown_escaped(signed_in, edition, author):
    signed_in.post(SUBMIT, form_data(edition, author, abstract="<script>alert('x')</script> Fast."))
    assert Paper.objects.get().abstract == "<script>alert('x')</script> Fast."
    page = signed_in.get("/mai-test/papers/1/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Fast." in page
    assert "<script>alert" not in page


def test_a_200_megabyte_upload_is_refused_before_the_body_is_read(signed_in, edition, author):
    response = signed_in.post(
        SUBMIT, form_data(edition, author), CONTENT_LENGTH=str(200 * 1024 * 1024), follow=True
    )
    assert "The upload is 200 MB: the PDF may have at most 50 MB" in text(response)
    assert "Nothing was read or saved." in text(response)
    assert Paper.objects.count() == 0


def test_a_file_growing_past_its_limit_is_cut_off(signed_in, edition, author, settings):
    settings.PAPER_PDF_MAX_BYTES = 4096
    response = signed_in.post(SUBMIT, form_data(edition, author), follow=True)
    assert "The file “my paper.pdf” is larger than 4 KB and was refused; nothing was saved." in text(response)
    assert Paper.objects.count() == 0
    assert format_size(4096) == "4 KB" and format_size(50 * 1024 * 1024) == "50 MB"


def test_after_the_deadline_the_form_refuses_with_the_time(signed_in, edition, author):
    ImportantDate.objects.filter(workshop=edition, kind="paper_deadline").update(
        at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = signed_in.post(SUBMIT, form_data(edition, author))
    assert "Submitting a paper is no longer possible: the deadline was" in text(response)
    assert Paper.objects.count() == 0


def test_other_people_cannot_see_a_paper_and_chairs_can(paper, make_user, chair):
    client = Client()
    client.force_login(make_user(email="stranger@example.org"))
    assert client.get("/mai-test/papers/1/").status_code == 404
    assert client.get("/mai-test/papers/1/v1/pdf/").status_code == 404
    assert client.get("/mai-test/papers/all/").status_code == 403
    client.force_login(chair)
    page = text(client.get("/mai-test/papers/1/"))
    assert "Bo Coauthor" in page and "Extend the deadline of this paper" in page
    assert "all submissions" in text(client.get("/mai-test/papers/"))
    client.logout()
    assert client.get("/mai-test/papers/1/")["Location"].startswith("/accounts/login/")


def test_files_are_served_to_authors_with_neutral_names(signed_in, paper):
    review = signed_in.get("/mai-test/papers/1/v1/review/")
    assert review["Content-Disposition"] == 'inline; filename="paper-1.pdf"'
    assert b"".join(review.streaming_content).startswith(b"%PDF")
    with override_settings(PRIVATE_ACCEL_REDIRECT="/protected/"):
        accel = signed_in.get("/mai-test/papers/1/v1/review/")
    assert accel["X-Accel-Redirect"] == "/protected/" + paper.versions.get().review_copy.name
    assert accel.content == b"" and accel["Content-Disposition"] == 'inline; filename="paper-1.pdf"'
    assert signed_in.get("/mai-test/papers/1/v1/supplementary/").status_code == 404


def test_editing_replaces_the_pdf_and_keeps_every_version(signed_in, paper, edition, author):
    page = text(signed_in.get("/mai-test/papers/1/edit/"))
    assert 'value="Fast ISP on phones"' in page and 'value="bo@elsewhere.example"' in page
    data = form_data(
        edition,
        author,
        title="Faster ISP",
        pdf=pdf_upload(body_pages=5),
        revision=paper.revision,
        **{"authors-INITIAL_FORMS": "2"},
    )
    data.pop("submission_token")
    response = signed_in.post("/mai-test/papers/1/edit/", data, follow=True)
    assert "Your changes were saved. The new PDF is being checked." in text(response)
    paper.refresh_from_db()
    assert paper.title == "Faster ISP"
    assert list(paper.versions.values_list("number", flat=True)) == [2, 1]
    assert "Changed title" in text(response)
    # A second tab still holding the old revision is refused.
    data["title"], data["pdf"] = "From the stale tab", pdf_upload()
    stale = signed_in.post("/mai-test/papers/1/edit/", data)
    assert "changed (in another tab or by a co-author) after you opened this form" in text(stale)
    paper.refresh_from_db()
    assert paper.title == "Faster ISP" and paper.versions.count() == 2


def test_after_the_deadline_editing_is_closed_but_withdrawal_works(signed_in, paper, edition):
    edition.dates.filter(kind="paper_deadline").update(at=timezone.now() - dt.timedelta(minutes=1))
    response = signed_in.get("/mai-test/papers/1/edit/", follow=True)
    assert "can no longer be edited" in text(response)
    assert "Edit paper" not in text(signed_in.get("/mai-test/papers/1/"))
    assert "Yes, withdraw" in text(signed_in.get("/mai-test/papers/1/withdraw/"))
    response = signed_in.post(
        "/mai-test/papers/1/withdraw/", {"reason": "Not ready", "confirm": "on"}, follow=True
    )
    assert "Paper #1 was withdrawn." in text(response)
    paper.refresh_from_db()
    assert paper.status == Paper.Status.WITHDRAWN
    assert OutgoingMail.objects.filter(subject="[MAI Test #1] Paper withdrawn").exists()


def test_chairs_list_filters_counts_and_csv(paper, chair, edition, author):
    client = Client()
    second = PaperFactory(
        workshop=edition,
        number=2,
        title="Quantized SR",
        abstract="=cmd()",
        kind="challenge",
        challenge=edition.challenges.get(),
        submitter=author,
        topics=edition.topics.all()[1:3],
    )
    PaperAuthorFactory(
        paper=second, order=1, name="Cy Third", email="cy@third.example", affiliation="Third Uni"
    )
    client.force_login(chair)
    assert "Quantized SR" in text(client.get("/mai-test/papers/all/?check=errors"))  # no valid PDF yet
    page = client.get("/mai-test/papers/all/")
    assert html.text(page, id="result-count") == "2 papers"
    per_topic = dict(html.table(page, class_="topic-counts"))
    assert (per_topic["Efficient models"], per_topic["Quantization"]) == ("1", "1")
    assert html.text(client.get("/mai-test/papers/all/?kind=challenge"), id="result-count") == "1 paper"
    assert "Quantized SR" in text(client.get("/mai-test/papers/all/?q=third+uni"))
    assert "Quantized SR" not in text(client.get("/mai-test/papers/all/?q=Alex"))
    topic = edition.topics.get(name="Quantization")
    assert "Fast ISP" not in text(client.get(f"/mai-test/papers/all/?topic={topic.pk}"))
    assert html.text(client.get("/mai-test/papers/all/?check=clean"), id="result-count") == "1 paper"
    second.versions.create(
        number=1,
        check_state=PaperVersion.CheckState.WARNINGS,
        check_report={"warning_count": 2, "error_count": 0},
    )
    warned = text(client.get("/mai-test/papers/all/?check=warnings"))
    assert (
        "1 paper" in warned
        and "Quantized SR" in warned
        and '<span class="badge warn">2 warnings</span>' in warned
    )
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/mai-test/papers/all/?kind=regular&format=csv").content.decode())
        )
    )
    assert [r["number"] for r in rows] == ["1"]
    assert rows[0]["authors"] == "Alex Author; Bo Coauthor"
    assert rows[0]["pages"] == "7" and rows[0]["check"] == "passed" and rows[0]["warnings"] == "0"


def test_a_chair_extends_one_papers_deadline(paper, chair, edition, signed_in):
    edition.dates.filter(kind="paper_deadline").update(at=timezone.now() - dt.timedelta(minutes=1))
    assert "Edit paper" not in text(signed_in.get("/mai-test/papers/1/"))
    assert signed_in.post("/mai-test/papers/1/extend/", {"until": "2099-01-01T12:00"}).status_code == 403
    client = Client()
    client.force_login(chair)
    response = client.post("/mai-test/papers/1/extend/", {"until": "2099-01-01T12:00"}, follow=True)
    assert "The deadline of paper #1 was extended." in text(response)
    paper.refresh_from_db()
    assert (
        paper.deadline_extended_until.astimezone(edition.zone).strftime("%Y-%m-%d %H:%M")
        == "2099-01-01 12:00"
    )
    assert "Edit paper" in text(signed_in.get("/mai-test/papers/1/"))


def test_my_papers_lists_the_authors_papers(signed_in, paper):
    page = text(signed_in.get("/mai-test/papers/"))
    assert "Fast ISP on phones" in page and "Submitted" in page and "Submit a paper" in page
    assert "My papers" in text(signed_in.get("/mai-test/"))


def zip_upload(name="supp.zip", valid=True):
    buffer = io.BytesIO()
    if valid:
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("video.txt", "frames")
        data = buffer.getvalue()
    else:
        data = b"not a zip at all"
    return SimpleUploadedFile(name, data, content_type="application/zip")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: zip_upload(valid=False), "The supplementary file is named .zip but is not a ZIP archive."),
        (lambda: zip_upload(name="tool.exe"), "Supplementary material is a ZIP archive or a PDF."),
    ],
)
def test_bad_supplementary_material_is_refused(signed_in, edition, author, upload, message):
    response = signed_in.post(SUBMIT, form_data(edition, author, supplementary=upload()))
    assert message in text(response)
    assert Paper.objects.count() == 0


def test_supplementary_material_is_kept_with_a_neutral_name(signed_in, edition, author):
    signed_in.post(SUBMIT, form_data(edition, author, supplementary=zip_upload(name="Alex-Author-video.zip")))
    version = PaperVersion.objects.get()
    assert version.supplementary.name.endswith("/paper-1-supplementary.zip")
    response = signed_in.get("/mai-test/papers/1/v1/supplementary/")
    assert response["Content-Disposition"] == 'attachment; filename="paper-1-supplementary.zip"'


def test_an_invited_coauthor_signs_up_confirms_and_sees_the_paper(paper):
    invitation = OutgoingMail.objects.get(to=["bo@elsewhere.example"], subject__contains="co-author")
    assert "Sign up with this address (bo@elsewhere.example)" in invitation.body
    bo = Client()
    response = bo.post(
        "/accounts/signup/",
        {
            "email": "bo@elsewhere.example",
            "full_name": "Bo Coauthor",
            "password1": "a-Long-test-passw0rd",
            "password2": "a-Long-test-passw0rd",
        },
    )
    assert response.status_code == 302
    confirm = OutgoingMail.objects.filter(to=["bo@elsewhere.example"]).exclude(pk=invitation.pk).get()
    link = re.search(r"http://\S+(/accounts/confirm-email/\S+/)", confirm.body).group(1)
    assert paper.authors.get(email="bo@elsewhere.example").user is None
    bo.post(link)
    linked = paper.authors.get(email="bo@elsewhere.example").user
    assert linked is not None and linked.email == "bo@elsewhere.example"
    bo.force_login(linked)
    assert "Fast ISP on phones" in text(bo.get("/mai-test/papers/"))
    assert bo.get("/mai-test/papers/1/").status_code == 200
