"""The chair's dashboard: papers by status, review progress, late reviewers reminded once per click,
what is left to decide, the edition's mail outbox with a confirmed retry of failures."""

import pytest
from django.test import Client

from common.models import Dispatch
from conference.models import OutgoingMail, Paper
from conference.reviewing.models import Assignment, Conflict
from tests.console.conftest import pacific
from tests.factories import AssignmentFactory, ConflictFactory, PaperFactory, ReviewFactory
from tests.html import element, table, text

pytestmark = pytest.mark.django_db

URL = "/mai-2021/manage/"


@pytest.fixture
def under_review(source, make_user):
    """Two submitted papers and a withdrawn one; Rita owes a review (late: the deadline passed in
    2021), Sam submitted his; one suggested conflict to decide."""
    ws, rita = source["workshop"], source["users"]["reviewer"]
    sam = make_user("sam@reviewers.edu", full_name="Sam Second")
    second = PaperFactory(workshop=ws, number=2, title="Second paper")
    PaperFactory(workshop=ws, number=3, title="Gone", status=Paper.Status.WITHDRAWN)
    late = AssignmentFactory(paper=source["paper"], user=rita, number=1)
    ReviewFactory(assignment=AssignmentFactory(paper=second, user=sam, number=1))
    ConflictFactory(paper=second, user=rita, source=Conflict.Source.DOMAIN, state=Conflict.State.SUGGESTED)
    return {"late": late, "rita": rita, "sam": sam}


@pytest.fixture
def chair_client(source):
    client = Client()
    client.force_login(source["users"]["chair"])
    return client


def test_dashboard_counts_papers_reviews_and_what_is_left_to_decide(source, under_review, chair_client):
    page = chair_client.get(URL)
    assert text(page, data_testid="papers-submitted") == "Submitted 2"
    assert text(page, data_testid="papers-withdrawn") == "Withdrawn 1"
    assert text(page, data_testid="papers-accepted") == "Accepted 0"
    assert text(page, id="review-papers") == "2"
    assert text(page, id="reviews-assigned") == "2"
    assert text(page, id="reviews-submitted") == "1"
    assert text(page, id="conflicts-to-decide") == "1"
    assert text(page, id="decisions-undecided") == "2"
    assert text(page, id="decisions-unreleased") == "0"
    assert table(page, id="late-reviewers")[0][:3] == [
        "Rita Reviewer <rita@reviewers.edu>",
        "1",
        "never",
    ]


def test_remind_mails_a_late_reviewer_once_per_click(source, under_review, chair_client):
    page = chair_client.get(URL)
    shown_at = element(page, "input", name="shown_at").attrs["value"]
    rita = under_review["rita"]
    done = chair_client.post(f"{URL}remind/", {"shown_at": shown_at, "user": rita.pk}, follow=True)
    assert text(done, "div", class_="messages") == "Reminder sent to 1 reviewer(s)."
    mails = OutgoingMail.objects.filter(to=["rita@reviewers.edu"])
    assert mails.count() == 1
    assert Assignment.objects.get(pk=under_review["late"].pk).last_reminded_at is not None
    # The same page's form posted again (a double click): nobody is mailed twice.
    again = chair_client.post(f"{URL}remind/", {"shown_at": shown_at}, follow=True)
    assert mails.count() == 1
    assert text(again, "div", class_="messages") == (
        "Nobody to remind: already reminded since this page was shown, or nothing pending."
    )


def test_crafted_ids_that_look_like_digits_are_refused_not_a_server_error(source, under_review, chair_client):
    """ "²" passes str.isdigit() but not int(): ids posted by hand are read as decimal numbers only."""
    shown_at = element(chair_client.get(URL), "input", name="shown_at").attrs["value"]
    remind = chair_client.post(f"{URL}remind/", {"shown_at": shown_at, "user": "²"})
    assert remind.status_code == 302
    retry = chair_client.post(f"{URL}mail/retry/", {"mail": ["²"]})
    assert retry.status_code in (200, 302)


def test_the_outbox_shows_the_editions_failures_and_retries_them_after_confirmation(source, chair_client):
    failed = OutgoingMail.objects.create(
        to=["rita@reviewers.edu"],
        subject="[MAI 2021] Review reminder",
        body="x",
        state=OutgoingMail.State.FAILED,
        error="SMTPServerDisconnected: gone",
    )
    sent = OutgoingMail.objects.create(
        to=["a@b.c"], subject="[MAI 2021] Welcome", body="x", state=OutgoingMail.State.SENT
    )
    refused = OutgoingMail.objects.create(
        to=["sam@reviewers.edu"],
        subject="[MAI 2021 #1] Paper received",
        body="x",
        state=OutgoingMail.State.FAILED,
        error="SMTPRecipientsRefused: {'sam@reviewers.edu': (550, b'5.1.1 <sam@reviewers.edu>: unknown')}",
    )
    other = OutgoingMail.objects.create(
        to=["z@b.c"], subject="[MAI 2022 #1] Not ours", body="x", state=OutgoingMail.State.FAILED, error="E"
    )
    page = chair_client.get(URL)
    assert (text(page, id="outbox-failed"), text(page, id="outbox-sent"), text(page, id="outbox-queued")) == (
        "2",
        "1",
        "0",
    )
    assert text(page, id="outbox-scope").startswith(
        "Messages whose subject starts with “[MAI 2021]” or, for a paper, “[MAI 2021 #…]”;"
    )
    rows = table(page, id="outbox-failures")
    # Newest first. Recipients are not shown to chairs (they tell who reviews which paper), not even
    # inside an SMTP error.
    assert [row[:2] for row in rows] == [
        [
            "[MAI 2021 #1] Paper received",
            "SMTPRecipientsRefused: {'(address hidden)': (550, b'5.1.1 <(address hidden)>: unknown')}",
        ],
        ["[MAI 2021] Review reminder", "SMTPServerDisconnected: gone"],
    ]
    confirm = chair_client.get(f"{URL}mail/retry/")
    assert text(confirm, id="retry-count") == "2"
    failed.refresh_from_db()
    assert failed.state == "failed"  # nothing before the confirmation
    # A failure that comes after the confirmation page was shown waits for its own confirmation.
    later = OutgoingMail.objects.create(
        to=["y@b.c"], subject="[MAI 2021] Later", body="x", state=OutgoingMail.State.FAILED, error="E"
    )
    retry = element(confirm, id="retry-confirm").parent.find_all("input", name="mail")
    page = chair_client.post(f"{URL}mail/retry/", {"mail": [i.attrs["value"] for i in retry]}, follow=True)
    assert text(page, "div", class_="messages") == "2 message(s) queued to be sent again."
    for mail in (failed, refused, other, later, sent):
        mail.refresh_from_db()
    assert (failed.state, refused.state, other.state, later.state, sent.state) == (
        "queued",
        "queued",
        "failed",
        "failed",
        "sent",
    )
    dispatched = set(
        Dispatch.objects.filter(task="conference.send_outgoing_mail").values_list("ref", flat=True)
    )
    # The sent message is not sent again, nor another edition's.
    assert dispatched == {f"conference.outgoingmail:{failed.pk}", f"conference.outgoingmail:{refused.pk}"}
    # Confirming again (a second click, another tab) re-queues nothing: the message is no longer failed.
    page = chair_client.post(f"{URL}mail/retry/", {"mail": [i.attrs["value"] for i in retry]}, follow=True)
    assert Dispatch.objects.filter(task="conference.send_outgoing_mail").count() == 2
    notes = [p.text for p in element(page, "div", class_="messages").find_all("p")]
    assert notes == [
        "0 message(s) queued to be sent again.",
        "2 of the messages you confirmed had been sent or queued meanwhile: left alone.",
    ]


def test_edit_pages_save_the_call_for_papers_sanitised_topics_and_organisers(source, chair_client):
    ws = source["workshop"]
    form = {
        "name": ws.name,
        "short_name": ws.short_name,
        "description": "",
        "call_for_papers": '# Call\n\nSee <a href="javascript:alert(1)" onclick="x()">this</a>.<script>alert(1)</script>',
        "is_public": "on",
    }
    assert chair_client.post(f"{URL}edit/cfp/", form).status_code == 302
    cfp = element(Client().get("/mai-2021/call-for-papers/"), id="cfp-text")
    assert cfp.find("h1").text == "Call"
    link = cfp.find("a")
    assert (
        link.text == "this" and "onclick" not in link.attrs and "javascript" not in link.attrs.get("href", "")
    )
    assert cfp.find("script") is None
    # Topics: one per line; a topic a paper chose stays.
    source["paper"].topics.add(ws.topics.get(name="Quantization"))
    # Removing an unused topic (Super-resolution) is confirmed first; Quantization is kept.
    page = chair_client.post(f"{URL}topics/", {"topics": "Depth estimation\nNew topic\n"})
    assert text(page, id="removal-count") == "1"
    assert [li.text for li in element(page, id="removal-items").find_all("li")] == ["Super-resolution"]
    assert ws.topics.count() == 3  # nothing before the confirmation
    chair_client.post(f"{URL}topics/", {"action": "confirm", "payload": _payload(page)})
    assert list(ws.topics.values_list("name", flat=True)) == ["Depth estimation", "New topic", "Quantization"]
    # Adding only needs no confirmation.
    chair_client.post(f"{URL}topics/", {"topics": "Depth estimation\nNew topic\nQuantization\nNAS"})
    assert ws.topics.count() == 4
    # Venue: the workshop cannot end before it starts.
    page = chair_client.post(
        f"{URL}edit/venue/",
        {
            "host_conference": "CVPR 2021",
            "host_conference_url": "",
            "location": "Online",
            "start_date": "2021-06-25",
            "end_date": "2021-06-24",
            "time_zone": "America/Los_Angeles",
        },
    )
    assert "The workshop cannot end before it starts." in text(page, id="edit-venue-form")
    # Organisers.
    data = {
        "org-TOTAL_FORMS": "3",
        "org-INITIAL_FORMS": "2",
        "org-0-name": "Andrey Ignatov",
        "org-0-affiliation": "ETH Zurich",
        "org-1-name": "Radu Timofte",
        "org-1-affiliation": "ETH Zurich",
        "org-1-DELETE": "on",
        "org-2-name": "Marcos Conde",
        "org-2-affiliation": "University of Würzburg",
    }
    page = chair_client.post(f"{URL}organisers/", data)
    assert [li.text for li in element(page, id="removal-items").find_all("li")] == [
        "Radu Timofte (ETH Zurich)"
    ]
    assert ws.organisers.count() == 2  # nothing before the confirmation
    done = chair_client.post(
        f"{URL}organisers/", {"action": "confirm", "payload": _payload(page)}, follow=True
    )
    assert text(done, "div", class_="messages") == "2 organiser(s) saved."
    assert list(ws.organisers.values_list("name", flat=True)) == ["Andrey Ignatov", "Marcos Conde"]
    # A confirmation made from an older list is refused.
    stale = chair_client.post(
        f"{URL}organisers/", {"action": "confirm", "payload": _payload(page)}, follow=True
    )
    assert text(stale, "div", class_="messages") == (
        "This page was changed by someone else meanwhile: check it and make the change again."
    )
    assert ws.organisers.count() == 2


def _payload(page) -> str:
    return element(page, "input", name="payload").attrs["value"]


def test_late_reviewers_section_says_why_nobody_is_late(source, chair_client):
    settings_row = source["workshop"].review_settings
    settings_row.review_deadline = None
    settings_row.save(update_fields=["review_deadline"])
    assert text(chair_client.get(URL), id="late-none") == (
        "No review deadline is set, so nobody is late yet: add the review deadline to the important dates."
    )
    settings_row.review_deadline = pacific(2099, 3, 30)
    settings_row.save(update_fields=["review_deadline"])
    shown = element(chair_client.get(URL), id="late-none")
    assert shown.text.startswith(
        "Nobody is late: the review deadline, Mon 30 March 2099, 5pm Pacific Time (PDT)"
    )
    assert shown.text.endswith("has not passed.")


def test_changing_the_time_zone_shows_how_every_date_will_read_first(source, chair_client):
    ws = source["workshop"]
    venue = {
        "host_conference": "CVPR 2021",
        "host_conference_url": "",
        "location": "Online",
        "start_date": "2021-06-25",
        "end_date": "2021-06-25",
        "time_zone": "America/New_York",
    }
    page = chair_client.post(f"{URL}edit/venue/", venue)
    assert text(page, id="zone-count") == "13"  # 5 important dates and the track's 8 milestones
    assert [
        "Paper submission deadline",
        "Mon 15 March 2021, 5pm Pacific Time (PDT)",
        "Mon 15 March 2021, 8pm Eastern Time (EDT)",
    ] in table(page, id="zone-dates")
    ws.refresh_from_db()
    assert ws.time_zone == "America/Los_Angeles"  # nothing before the confirmation
    confirm = element(page, id="zone-confirm")
    posted = {i.attrs["name"]: i.attrs["value"] for i in confirm.parent.find_all("input")}
    assert posted.pop("csrfmiddlewaretoken")
    assert posted == venue
    chair_client.post(f"{URL}edit/venue/", {**posted, "action": confirm.attrs["value"]})
    ws.refresh_from_db()
    assert ws.time_zone == "America/New_York"
    deadline = ws.dates.get(kind="paper_deadline")
    assert deadline.at == pacific(2021, 3, 15)  # the same instant, read in the new zone
