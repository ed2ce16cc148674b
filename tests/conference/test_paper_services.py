"""Paper services on PostgreSQL: the submission window to the second, numbering, versions and the
check, edits and conflicts, withdrawal, extensions, invitations and linking on sign-up, the log."""

import datetime as dt
import io
import threading
import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from pypdf import PdfReader

from conference import selectors, services
from conference.models import ImportantDate, OutgoingMail, Paper, PaperChange, PaperVersion
from tests.conference import paper_fixtures
from tests.conference.paper_fixtures import pdf_upload
from tests.factories import ChallengeFactory, TopicFactory

edition, author, chair = paper_fixtures.edition, paper_fixtures.author, paper_fixtures.chair

pytestmark = pytest.mark.django_db

COAUTHOR = services.AuthorData(name="Bo Coauthor", email="bo@elsewhere.example", affiliation="Elsewhere Lab")


def me(user) -> services.AuthorData:
    return services.AuthorData(name="Alex Author", email=user.email, affiliation="Institute of Mobile Vision")


def submit(edition, user, **overrides) -> Paper:
    fields = {
        "workshop": edition,
        "submitter": user,
        "title": "Fast ISP on phones",
        "abstract": "We make ISPs fast.",
        "topics": list(edition.topics.all()[:1]),
        "kind": Paper.Kind.REGULAR,
        "authors": [me(user), COAUTHOR],
        "pdf": pdf_upload(),
    }
    fields.update(overrides)
    paper, _ = services.paper_create(**fields)
    return paper


def deadline(edition, kind=ImportantDate.Kind.PAPER_DEADLINE):
    return edition.dates.get(kind=kind).at


def run_check(paper) -> PaperVersion:
    version = paper.versions.order_by("-number").first()
    return services.paper_version_check(version_id=version.pk)


def test_one_second_before_the_deadline_is_accepted_one_second_after_is_refused(edition, author):
    at = deadline(edition)
    paper = submit(edition, author, now=at - dt.timedelta(seconds=1))
    assert paper.number == 1
    with pytest.raises(services.SubmissionClosed) as refused:
        submit(edition, author, now=at + dt.timedelta(seconds=1))
    zone = edition.zone
    assert refused.value.message == (
        f"Submitting a paper is no longer possible: the deadline was {at.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} "
        f"and it is now {(at + dt.timedelta(seconds=1)).astimezone(zone):%Y-%m-%d %H:%M:%S %Z}. "
        "Only withdrawal is possible."
    )
    assert Paper.objects.count() == 1


def test_grace_minutes_and_a_papers_extension_move_the_close(edition, author, chair):
    at = deadline(edition)
    edition.submission_grace_minutes = 15
    edition.save()
    submit(edition, author, now=at + dt.timedelta(minutes=15))
    with pytest.raises(services.SubmissionClosed):
        submit(edition, author, now=at + dt.timedelta(minutes=15, seconds=1))
    paper = Paper.objects.get()
    window = selectors.submission_window(workshop=edition, kind="regular", paper=paper)
    assert (window.shown, window.closes) == (at, at + dt.timedelta(minutes=15))  # grace is not advertised
    later = at + dt.timedelta(days=2)
    services.paper_extend_deadline(paper=paper, user=chair, until=later)
    paper.refresh_from_db()
    assert selectors.submission_window(workshop=edition, kind="regular", paper=paper).shown == later
    assert selectors.paper_is_editable(paper=paper, now=later - dt.timedelta(seconds=1))
    assert not selectors.paper_is_editable(paper=paper, now=later + dt.timedelta(seconds=1))
    assert paper.changes.filter(action=PaperChange.Action.EXTENDED, user=chair).exists()


def test_challenge_papers_have_their_later_deadline_and_must_name_a_challenge(edition, author):
    after_regular = deadline(edition) + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as missing:
        submit(edition, author, kind=Paper.Kind.CHALLENGE, now=after_regular)
    assert missing.value.message_dict == {"challenge": ["A challenge paper names its challenge."]}
    challenge = edition.challenges.get()
    paper = submit(edition, author, kind=Paper.Kind.CHALLENGE, challenge=challenge, now=after_regular)
    assert paper.challenge == challenge
    with pytest.raises(services.SubmissionClosed):
        submit(edition, author, now=after_regular)  # a regular paper is too late by now


def test_before_submission_opens_nothing_is_accepted(edition, author):
    opens = edition.dates.get(kind=ImportantDate.Kind.SUBMISSION_OPEN).at
    with pytest.raises(services.SubmissionClosed) as refused:
        submit(edition, author, now=opens - dt.timedelta(seconds=1))
    assert "not possible yet: submission opens at" in str(refused.value)


def test_papers_are_numbered_per_edition_and_a_repeated_form_creates_one_paper(edition, author):
    token = uuid.uuid4()
    first = submit(edition, author, submission_token=token)
    again, created = services.paper_create(
        workshop=edition,
        submitter=author,
        title="Same form again",
        abstract="x",
        topics=[],
        kind="regular",
        authors=[me(author)],
        pdf=pdf_upload(),
        submission_token=token,
    )
    assert (again.pk, created) == (first.pk, False)
    second = submit(edition, author)
    assert [first.number, second.number] == [1, 2]


def test_a_passing_check_submits_the_paper_and_writes_an_anonymous_review_copy(edition, author):
    paper = submit(edition, author, pdf=pdf_upload(meta_author="Alex Author"))
    assert paper.status == Paper.Status.DRAFT
    assert selectors.paper_review_file(paper=paper) is None
    version = run_check(paper)
    paper.refresh_from_db()
    assert version.check_state == PaperVersion.CheckState.WARNINGS  # the Author metadata
    assert paper.status == Paper.Status.SUBMITTED
    review = selectors.paper_review_file(paper=paper)
    assert review.name.endswith(f"/paper-{paper.number}.pdf")
    with review.open("rb") as handle:
        copy = PdfReader(handle)
        assert not copy.metadata
        assert len(copy.pages) == 7
    assert "Alex" not in version.original.name and "my paper" not in version.original.name
    assert version.original_name == "my paper.pdf"
    # Running the task again (a redelivered message) changes nothing.
    assert services.paper_version_check(version_id=version.pk).checked_at == version.checked_at


def test_a_failing_version_does_not_replace_the_current_one(edition, author):
    paper = submit(edition, author)
    run_check(paper)
    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=Paper.objects.get().revision,
        title=paper.title,
        abstract=paper.abstract,
        topics=list(paper.topics.all()),
        kind=paper.kind,
        authors=[me(author), COAUTHOR],
        pdf=pdf_upload(body_pages=9),
    )
    version = run_check(paper)
    paper.refresh_from_db()
    assert version.number == 2 and version.check_state == PaperVersion.CheckState.FAILED
    assert version.check_report["error_count"] == 1
    assert selectors.paper_current_version(paper=paper).number == 1
    assert paper.status == Paper.Status.SUBMITTED
    mail = OutgoingMail.objects.filter(subject__contains="PDF check: refused").get()
    assert "9 pages before the references" in mail.body
    assert set(mail.to) == {author.email, COAUTHOR.email}


def test_a_draft_stays_a_draft_when_its_only_pdf_is_too_long(edition, author):
    paper = submit(edition, author, pdf=pdf_upload(body_pages=9))
    run_check(paper)
    paper.refresh_from_db()
    assert paper.status == Paper.Status.DRAFT
    assert selectors.paper_review_file(paper=paper) is None


def test_edits_are_logged_with_what_changed_and_mailed_to_every_author(edition, author):
    paper = submit(edition, author)
    OutgoingMail.objects.all().delete()
    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=0,
        title="A better title",
        abstract=paper.abstract,
        topics=list(edition.topics.all()),
        kind=paper.kind,
        authors=[COAUTHOR, me(author)],
    )
    change = paper.changes.get(action=PaperChange.Action.EDITED)
    assert change.user == author
    assert change.details["title"] == ["Fast ISP on phones", "A better title"]
    assert change.summary == "Changed title, topics, authors"
    assert [a.email for a in paper.authors.order_by("order")] == [COAUTHOR.email, author.email]
    mail = OutgoingMail.objects.get()
    assert set(mail.to) == {author.email, COAUTHOR.email}
    assert "changed title, topics, authors" in mail.body


def test_an_edit_from_a_stale_form_is_refused_and_loses_nothing(edition, author):
    paper = submit(edition, author)
    services.paper_update(
        paper=paper,
        user=author,
        expected_revision=0,
        title="Tab one",
        abstract="a",
        topics=[],
        kind="regular",
        authors=[me(author)],
    )
    with pytest.raises(services.PaperConflict):
        services.paper_update(
            paper=paper,
            user=author,
            expected_revision=0,
            title="Tab two",
            abstract="b",
            topics=[],
            kind="regular",
            authors=[me(author)],
        )
    paper.refresh_from_db()
    assert paper.title == "Tab one"


def test_after_the_deadline_only_withdrawal_is_possible(edition, author):
    paper = submit(edition, author)
    late = deadline(edition) + dt.timedelta(seconds=1)
    with pytest.raises(services.SubmissionClosed):
        services.paper_update(
            paper=paper,
            user=author,
            expected_revision=None,
            title="Late",
            abstract="a",
            topics=[],
            kind="regular",
            authors=[me(author)],
            now=late,
        )
    services.paper_withdraw(paper=paper, user=author, reason="Not ready", now=late)
    paper.refresh_from_db()
    assert paper.status == Paper.Status.WITHDRAWN
    assert paper.withdrawal_reason == "Not ready"
    assert paper.title == "Fast ISP on phones"
    assert paper.changes.filter(action=PaperChange.Action.WITHDRAWN, user=author).exists()


def test_coauthors_without_account_are_invited_and_linked_when_they_confirm_the_address(
    edition, author, make_user, rf
):
    paper = submit(edition, author)
    invitation = OutgoingMail.objects.get(to=[COAUTHOR.email], subject__contains="You are a co-author")
    assert "/accounts/signup/" in invitation.body
    row = paper.authors.get(email=COAUTHOR.email)
    assert row.user is None and row.invited_at is not None
    assert paper.authors.get(email=author.email).user == author
    # Bo signs up; the address is linked only once it is confirmed.
    bo = make_user(email="bo.other@elsewhere.example", full_name="Bo Coauthor")
    address = EmailAddress.objects.create(user=bo, email=COAUTHOR.email, verified=False)
    assert selectors.paper_list_for_author(user=bo).count() == 0
    address.verified = True
    address.save()
    email_confirmed.send(sender=EmailAddress, request=rf.get("/"), email_address=address)
    assert list(selectors.paper_list_for_author(user=bo)) == [paper]
    assert bo.has_perm("conference.paper_edit", paper)


def test_only_the_workshops_topics_and_challenges_are_accepted(edition, author, db):
    foreign_topic = TopicFactory(name="Elsewhere")  # of another edition
    foreign_challenge = ChallengeFactory(workshop=foreign_topic.workshop, title="Foreign")
    with pytest.raises(ValidationError) as refused:
        submit(edition, author, topics=[foreign_topic], kind="challenge", challenge=foreign_challenge)
    assert set(refused.value.message_dict) == {"topics", "challenge"}


@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitting_at_once_get_different_numbers(edition, author):
    numbers, errors = [], []

    def tab(title):
        try:
            numbers.append(submit(edition, author, title=title).number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(f"Tab {i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [1, 2, 3]


def test_the_demo_seed_puts_the_demo_authors_papers_in_every_state_once(seeded):
    """The live edition shows every paper state without the admin: #1 submitted, #2 under review, #3
    decided (not released), #4 released and accepted; seeding again adds nothing."""
    live = seeded["mai-live"]
    papers = list(Paper.objects.filter(workshop=live).order_by("number"))
    assert [p.submitter.email for p in papers] == ["author@example.com"] * 4
    assert [p.status for p in papers] == [Paper.Status.SUBMITTED] * 3 + [Paper.Status.ACCEPTED]
    assert not papers[0].assignments.exists()
    assert papers[1].assignments.exists() and not hasattr(papers[1], "decision")
    papers[2].refresh_from_db()
    assert papers[2].decision.released_at is None
    assert papers[3].decision.released_at is not None
    assert selectors.paper_review_file(paper=papers[0]).name.endswith("/paper-1.pdf")
    assert papers[0].versions.get().check_report["content_pages"] == 7
    call_command("seed_demo", stdout=io.StringIO())
    assert Paper.objects.filter(workshop=live).count() == 4


def test_a_check_that_never_ran_is_dispatched_again_then_refused_with_a_reason(edition, author, settings):
    """A PDF check whose message was lost or whose worker was killed does not stay "Checking": the
    sweep dispatches it again, and after the last attempt the version is refused with the reason."""
    from common.models import Dispatch

    settings.PAPERS_CHECK_MAX_ATTEMPTS = 2
    paper = submit(edition, author)
    version = paper.versions.get()
    ref = f"conference.paperversion:{version.pk}"
    assert Dispatch.objects.filter(ref=ref, task="conference.check_paper_version").count() == 1
    later = version.created_at + dt.timedelta(seconds=settings.PAPERS_STALE_CHECK_S + 1)
    Dispatch.objects.filter(ref=ref).update(sent_at=version.created_at)  # sent, then lost
    assert services.paper_versions_recheck_stale(now=later) == {"rechecked": 1, "failed": 0}
    Dispatch.objects.filter(ref=ref).update(sent_at=version.created_at)
    assert services.paper_versions_recheck_stale(now=later) == {"rechecked": 0, "failed": 1}
    version.refresh_from_db()
    assert version.check_state == PaperVersion.CheckState.FAILED
    assert version.check_report["items"][0]["message"].startswith(
        "The check of this PDF did not finish after 2 attempts; upload it again"
    )
