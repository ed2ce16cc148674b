"""The authors' e-mails of the paper side, word for word: what a recipient reads after a submission, a
co-author invitation, an edit, each PDF-check verdict, a withdrawal and an extension. The bodies are
templates (templates/conference/mail/); a title with "&", quotes and "<" arrives as typed."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from conference import services
from conference.models import OutgoingMail, Paper
from tests.conference import paper_fixtures
from tests.conference.paper_fixtures import pdf_upload

edition, author, chair = paper_fixtures.edition, paper_fixtures.author, paper_fixtures.chair

pytestmark = pytest.mark.django_db

TITLE = 'Fast ISP & "RAW" <phones>'
COAUTHOR = services.AuthorData(name="Bo Coauthor", email="bo@elsewhere.example", affiliation="Elsewhere Lab")
AUTHORS = ["alex@mobile.example", COAUTHOR.email]


def footer() -> str:
    return f"\n\nPaper #1: {TITLE}\n{settings.SITE_URL}/mai-test/papers/1/\n"


def submit(edition, user, **overrides) -> Paper:
    fields = {
        "workshop": edition,
        "submitter": user,
        "title": TITLE,
        "abstract": "We make ISPs fast.",
        "topics": list(edition.topics.all()[:1]),
        "kind": Paper.Kind.REGULAR,
        "authors": [
            services.AuthorData(
                name="Alex Author", email=user.email, affiliation="Institute of Mobile Vision"
            ),
            COAUTHOR,
        ],
        "pdf": pdf_upload(),
    }
    fields.update(overrides)
    paper, _ = services.paper_create(**fields)
    return paper


def mail(subject: str) -> OutgoingMail:
    return OutgoingMail.objects.get(subject=subject)


def check_lines(version) -> str:
    items = [i for i in version.check_report["items"] if i["level"] in ("error", "warning")]
    return "\n".join(f"- {i['title']}: {i['message']}" for i in items)


def test_submission_mails_every_author_and_invites_the_co_author_without_an_account(edition, author):
    submit(edition, author)

    received = mail("[MAI Test #1] Paper received")
    assert received.to == AUTHORS
    assert received.body == (
        f"Alex Author submitted the paper “{TITLE}” to Mobile AI Test Workshop.\n"
        "Its PDF is being checked; you get another e-mail with the result. You can edit the paper until "
        "the deadline." + footer()
    )
    invitation = mail("[MAI Test] You are a co-author of paper #1")
    assert invitation.to == [COAUTHOR.email]
    assert invitation.body == (
        f"Dear Bo Coauthor,\n\nyou were listed as an author of the paper “{TITLE}” submitted to Mobile AI "
        "Test Workshop.\nSign up with this address (bo@elsewhere.example) to see and edit the paper: "
        f"{settings.SITE_URL}/accounts/signup/?email=bo%40elsewhere.example\n"
        "Once you confirm the address, the paper appears under “My papers”.\n"
    )


def test_each_check_verdict_is_mailed_with_its_lines(edition, author):
    paper = submit(edition, author, pdf=pdf_upload(body_pages=9))
    refused = services.paper_version_check(version_id=paper.versions.get().pk)
    assert refused.check_state == "failed"
    assert mail("[MAI Test #1] PDF check: refused").body == (
        f"PDF version 1 was refused:\n{check_lines(refused)}\n\nUpload a corrected PDF before the "
        "deadline. Until then the paper is a draft and is not submitted." + footer()
    )
    assert check_lines(refused).startswith("- Page limit: 9 pages before the references")

    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=None,
        title=TITLE,
        abstract="We make ISPs fast.",
        topics=list(paper.topics.all()),
        kind=paper.kind,
        authors=[services.AuthorData(name="Alex Author", email=author.email, affiliation="IMV"), COAUTHOR],
        pdf=pdf_upload(font_pt=9),
    )
    assert mail("[MAI Test #1] Paper changed").body == (
        "Alex Author changed authors. A new PDF is being checked." + footer()
    )
    warned = services.paper_version_check(version_id=paper.versions.get(number=2).pk)
    assert warned.check_state == "warnings"
    assert mail("[MAI Test #1] PDF check: passed with warnings").body == (
        f"PDF version 2 passed the checks with warnings:\n{check_lines(warned)}\nThe paper is submitted."
        + footer()
    )
    assert check_lines(warned) == "- Body font size: The body text is 9 pt; 10 pt is required."

    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=None,
        title=TITLE,
        abstract="We make ISPs fast.",
        topics=list(paper.topics.all()),
        kind=paper.kind,
        authors=[services.AuthorData(name="Alex Author", email=author.email, affiliation="IMV"), COAUTHOR],
        pdf=pdf_upload(),
    )
    passed = services.paper_version_check(version_id=paper.versions.get(number=3).pk)
    assert passed.check_state == "passed"
    assert mail("[MAI Test #1] PDF check: passed").body == (
        "PDF version 3 passed the checks.\nThe paper is submitted." + footer()
    )


def test_a_refused_version_of_a_submitted_paper_does_not_call_it_a_draft(edition, author):
    paper = submit(edition, author)
    services.paper_version_check(version_id=paper.versions.get().pk)
    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=None,
        title="Faster ISP",
        abstract="We make ISPs fast.",
        topics=list(paper.topics.all()),
        kind=paper.kind,
        authors=[services.AuthorData(name="Alex Author", email=author.email, affiliation="IMV"), COAUTHOR],
        pdf=pdf_upload(body_pages=9),
    )
    new_footer = footer().replace(f"#1: {TITLE}", "#1: Faster ISP")
    assert mail("[MAI Test #1] Paper changed").body == (
        "Alex Author changed title, authors. A new PDF is being checked." + new_footer
    )
    refused = services.paper_version_check(version_id=paper.versions.get(number=2).pk)
    assert mail("[MAI Test #1] PDF check: refused").body == (
        f"PDF version 2 was refused:\n{check_lines(refused)}\n\nUpload a corrected PDF before the deadline."
        + new_footer
    )


def test_withdrawal_and_extension_mails(edition, author, chair):
    paper = submit(edition, author)
    until = timezone.now() + dt.timedelta(days=30)
    services.paper_extend_deadline(paper=paper, user=chair, until=until)
    when = f"{timezone.localtime(until, edition.zone):%Y-%m-%d %H:%M %Z}"
    assert mail("[MAI Test #1] Deadline extended").body == (
        f"The chairs extended the deadline of this paper to {when}." + footer()
    )

    services.paper_withdraw(paper=paper, user=author, reason="  Not ready & sorry  ")
    assert mail("[MAI Test #1] Paper withdrawn").body == (
        "Alex Author withdrew the paper.\nReason: Not ready & sorry" + footer()
    )


def test_withdrawal_without_a_reason(edition, author):
    paper = submit(edition, author)
    services.paper_withdraw(paper=paper, user=author)
    assert mail("[MAI Test #1] Paper withdrawn").body == "Alex Author withdrew the paper." + footer()
