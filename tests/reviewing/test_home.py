"""The chair's reviewing home: progress per paper and per reviewer (assigned, draft, submitted, late)
and "remind" for one or all late reviewers — real outbox rows, once per click, last reminder shown."""

import datetime as dt
import re
from html import unescape

import pytest
from django.utils import timezone

from conference.models import OutgoingMail
from conference.reviewing.models import Assignment, ReviewSettings
from tests.html import cells, text
from tests.reviewing.conftest import add_author

pytestmark = pytest.mark.django_db
HOME = "/rev-test/review/"
REMIND = "/rev-test/review/remind/"
COLUMNS = ["assigned", "not_started", "draft", "submitted", "late"]


def row(html: str, element_id: str) -> list[str]:
    return cells(html, id=element_id)


def counts(html: str, element_id: str) -> dict:
    return dict(zip(COLUMNS, [int(c) for c in row(html, element_id)[1:6]], strict=True))


def shown_at(html: str) -> str:
    return unescape(re.search(r'name="shown_at" value="([^"]+)"', html).group(1))


def reminders(user):
    return OutgoingMail.objects.filter(to=[user.email], subject__contains="Reminder")


@pytest.fixture
def overdue(reviewed):
    ReviewSettings.objects.update_or_create(
        workshop=reviewed["workshop"], defaults={"review_deadline": timezone.now() - dt.timedelta(days=1)}
    )
    return reviewed


def test_progress_per_paper_and_per_reviewer(client, overdue):
    r = overdue["reviewers"]
    client.force_login(overdue["chair"])
    html = client.get(HOME).content.decode()
    assert counts(html, "progress-paper-1") == {
        "assigned": 2,
        "not_started": 0,
        "draft": 0,
        "submitted": 2,
        "late": 0,
    }
    assert counts(html, "progress-paper-2") == {
        "assigned": 2,
        "not_started": 1,
        "draft": 0,
        "submitted": 1,
        "late": 1,
    }
    assert counts(html, "progress-paper-3") == {
        "assigned": 2,
        "not_started": 0,
        "draft": 1,
        "submitted": 1,
        "late": 1,
    }
    assert counts(html, f"progress-reviewer-{r['sam'].pk}") == {
        "assigned": 3,
        "not_started": 0,
        "draft": 1,
        "submitted": 2,
        "late": 1,
    }
    assert counts(html, f"progress-reviewer-{r['ursula'].pk}") == {
        "assigned": 2,
        "not_started": 1,
        "draft": 0,
        "submitted": 1,
        "late": 1,
    }
    assert row(html, f"progress-reviewer-{r['rita'].pk}")[6] == "never"
    assert text(html, id="remind-all") == "Remind all 2 late reviewer(s)"


def test_remind_all_late_reviewers_once_per_click(client, overdue):
    r = overdue["reviewers"]
    client.force_login(overdue["chair"])
    page = client.get(HOME).content.decode()
    client.post(REMIND, {"shown_at": shown_at(page)})
    assert reminders(r["sam"]).count() == 1 and reminders(r["ursula"]).count() == 1
    assert not reminders(r["rita"]).exists()  # nothing pending
    mail = reminders(r["ursula"]).get()
    assert mail.subject == "[RTW] Reminder: 1 review(s) to submit"
    assert '#2 "Monocular depth on a Raspberry Pi"' in mail.body and "were due on" in mail.body
    # The same click again (a double submit of that page): nobody is mailed twice.
    response = client.post(REMIND, {"shown_at": shown_at(page)}, follow=True)
    assert reminders(r["sam"]).count() == 1 and reminders(r["ursula"]).count() == 1
    assert any("Nobody to remind" in str(m) for m in response.context["messages"])
    # The page notes when each reviewer was last reminded.
    html = client.get(HOME).content.decode()
    reminded = Assignment.objects.get(paper=overdue["papers"][1], user=r["ursula"]).last_reminded_at
    cell = re.search(
        rf'<tr id="progress-reviewer-{r["ursula"].pk}">.*?class="last-reminded">(.*?)</td>', html, re.S
    )
    iso = reminded.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert f'<time datetime="{iso}">' in cell.group(1)


def test_remind_one_reviewer(client, overdue):
    r = overdue["reviewers"]
    client.force_login(overdue["chair"])
    page = client.get(HOME).content.decode()
    response = client.post(REMIND, {"shown_at": shown_at(page), "user": r["sam"].pk}, follow=True)
    assert "Reminder sent to 1 reviewer(s)." in [str(m) for m in response.context["messages"]]
    assert reminders(r["sam"]).count() == 1 and not reminders(r["ursula"]).exists()
    assert '#3 "Learned camera ISP with integer arithmetic"' in reminders(r["sam"]).get().body


def test_a_conflicted_chair_sees_and_reminds_only_what_the_pages_show(client, overdue):
    r, chair = overdue["reviewers"], overdue["chair"]
    add_author(overdue["papers"][1], chair)
    client.force_login(chair)
    html = client.get(HOME).content.decode()
    assert 'id="progress-paper-2"' not in html
    assert counts(html, f"progress-reviewer-{r['ursula'].pk}") == {
        "assigned": 1,
        "not_started": 0,
        "draft": 0,
        "submitted": 1,
        "late": 0,
    }
    client.post(REMIND, {"shown_at": shown_at(html)})
    assert reminders(r["sam"]).count() == 1 and not reminders(r["ursula"]).exists()


def test_only_chairs_remind(client, overdue):
    client.force_login(overdue["reviewers"]["rita"])
    assert client.post(REMIND, {"shown_at": timezone.now().isoformat()}).status_code == 403
    assert 'id="chair-progress"' not in client.get(HOME).content.decode()
    assert not OutgoingMail.objects.filter(subject__contains="Reminder").exists()
