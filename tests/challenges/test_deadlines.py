"""Deadlines judged at arrival: the instant the request reached the site (stamped by
`config.middleware.ArrivalMiddleware` before the body is read) decides, the challenge's grace applies to
the validation close too, the stored submission time is that instant, and the refusal says when the
deadline was (in the workshop's zone) and how long ago."""

import datetime as dt
import http.client
import threading
import time
import urllib.parse
import uuid

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from challenges import services
from challenges import timeline as T
from challenges.demo_data import results_for
from challenges.models import Milestone, Submission
from conference.templatetags.workshop_time import format_in_zone
from config.middleware import ARRIVAL_RESPONSE_HEADER, request_arrival

from .conftest import ground_truth_bytes, move

UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)


# --- The rules (pure) -----------------------------------------------------------------------------------


def test_validation_close_honours_grace_and_final_phase_opens_on_time():
    test_data = dt.datetime(2021, 3, 16, 0, tzinfo=UTC)
    tl = T.Timeline(
        milestones={T.K_VALIDATION: test_data - dt.timedelta(days=50), T.K_TEST_DATA: test_data},
        grace=dt.timedelta(minutes=10),
    )
    grace_end = test_data + dt.timedelta(minutes=10)
    assert T.accepts_submissions(tl, "validation", grace_end - SECOND)
    assert not T.accepts_submissions(tl, "validation", grace_end)
    assert T.accepts_submissions(tl, "final", test_data)  # the grace does not delay the next phase
    assert T.phase_open(tl, test_data + SECOND) == T.Phase.FINAL
    assert T.phase_deadline(tl, "validation") == test_data
    assert T.phase_closes_at(tl, "validation") == grace_end


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "just now"),
        (1, "1 second ago"),
        (59, "59 seconds ago"),
        (180, "3 minutes ago"),
        (3 * 3600 + 5 * 60 + 7, "3 hours 5 minutes ago"),
        (2 * 86400 + 3600, "2 days ago"),
    ],
)
def test_ago_in_words(seconds, words):
    assert T.ago(dt.timedelta(seconds=seconds)) == words


# --- The service at the instant -------------------------------------------------------------------------


def submit(challenge, user, now):
    return services.submission_create(
        challenge=challenge,
        user=user,
        name="r.zip",
        data=results_for(challenge.result_format, ground_truth_bytes(challenge)),
        now=now,
    )


def test_one_second_before_is_accepted_and_stored_at_arrival_one_second_after_is_refused(
    denoising, participant
):
    user = participant(denoising, "On Time")
    deadline = denoising.milestones.get(kind=Milestone.Kind.TEST_DATA).at
    accepted = submit(denoising, user, deadline - SECOND)
    accepted.refresh_from_db()
    assert accepted.created_at == deadline - SECOND
    with pytest.raises(services.ChallengeError) as refused:
        submit(denoising, user, deadline + SECOND)
    when = format_in_zone(deadline, denoising.workshop.time_zone)
    assert refused.value.messages == [f"The validation phase closed at {when}, 1 second ago."]
    assert "Pacific Time (P" in when  # the workshop's zone, not UTC
    assert Submission.objects.filter(challenge=denoising).count() == 1


def test_grace_minutes_apply_to_the_validation_close(denoising, participant):
    denoising.grace_minutes = 10
    denoising.save()
    user = participant(denoising, "Grace")
    deadline = denoising.milestones.get(kind=Milestone.Kind.TEST_DATA).at
    grace_end = deadline + dt.timedelta(minutes=10)
    assert submit(denoising, user, grace_end - SECOND).pk
    with pytest.raises(services.ChallengeError) as refused:
        submit(denoising, user, grace_end + SECOND)
    # The published deadline is named, and how long ago it passed (grace included in the wait).
    when = format_in_zone(deadline, denoising.workshop.time_zone)
    assert refused.value.messages == [f"The validation phase closed at {when}, 10 minutes 1 second ago."]


def test_not_yet_open_names_the_opening(denoising, participant):
    user = participant(denoising, "Early")
    opens = denoising.milestones.get(kind=Milestone.Kind.VALIDATION_SERVER).at
    with pytest.raises(services.ChallengeError) as refused:
        submit(denoising, user, opens - SECOND)
    assert refused.value.messages == [
        f"The validation phase is not open yet: it opens at "
        f"{format_in_zone(opens, denoising.workshop.time_zone)}."
    ]


# --- The arrival stamp ----------------------------------------------------------------------------------


def test_trusted_proxy_stamp_is_used_only_when_configured_and_never_in_the_future():
    factory = RequestFactory()
    now = dt.datetime(2021, 3, 16, 0, 0, 5, tzinfo=UTC)
    earlier = now - dt.timedelta(seconds=3, milliseconds=250)
    stamped = factory.get("/", HTTP_X_REQUEST_START=f"t={earlier.timestamp() * 1000:.0f}")  # milliseconds
    assert request_arrival(stamped, now) == now  # no header trusted by default
    with override_settings(REQUEST_ARRIVAL_HEADER="X-Request-Start"):
        assert request_arrival(stamped, now) == earlier
        seconds = factory.get("/", HTTP_X_REQUEST_START=f"{earlier.timestamp():.6f}")
        assert abs(request_arrival(seconds, now) - earlier) < dt.timedelta(microseconds=2)
        future = factory.get("/", HTTP_X_REQUEST_START=f"t={(now + SECOND).timestamp():.3f}")
        assert request_arrival(future, now) == now
        garbage = factory.get("/", HTTP_X_REQUEST_START="soon")
        assert request_arrival(garbage, now) == now


@override_settings(REQUEST_ARRIVAL_HEADER="X-Request-Start")
def test_the_web_form_judges_the_proxy_stamped_arrival(client, denoising, participant):
    """The page's upload is judged by the arrival instant, not by when the view ran: the proxy says the
    request arrived 1 s before the close although the view runs after it (and the reverse)."""
    user = participant(denoising, "Proxy")
    client.force_login(user)
    url = f"/{denoising.workshop.slug}/challenges/{denoising.slug}/submissions/"
    data = results_for(denoising.result_format, ground_truth_bytes(denoising))
    close = timezone.now() - dt.timedelta(seconds=30)
    move(denoising, Milestone.Kind.TEST_DATA, close)

    def post(arrived):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            url,
            {"file": SimpleUploadedFile("r.zip", data)},
            HTTP_X_REQUEST_START=f"t={arrived.timestamp():.6f}",
        )

    late = post(close + SECOND)
    assert late.status_code == 200
    assert "The validation phase closed at" in late.content.decode()
    assert "1 second ago" in late.content.decode()
    ok = post(close - SECOND)
    assert ok.status_code == 302
    sub = Submission.objects.get(challenge=denoising)
    assert abs(sub.created_at - (close - SECOND)) < dt.timedelta(microseconds=2)
    assert ok.headers[ARRIVAL_RESPONSE_HEADER] == sub.created_at.isoformat()


# --- A burst straddling the instant, over real HTTP -------------------------------------------------------


def _multipart(fields: dict, file_name: str, data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/zip\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


N_CLIENTS = 50
BODY_DELAY_S = 0.3  # each client sends half its body, waits, then the rest


@pytest.mark.django_db(transaction=True)
def test_burst_of_50_straddling_the_deadline_is_judged_at_arrival(live_server, denoising, participant):
    """50 clients, each its own team, send their upload's headers between 0.6 s before and 0.6 s after
    the validation close; each body finishes 0.3 s after its headers. The arrival stamp is taken before
    the body is read; every upload stamped before the close is accepted and stored at that instant,
    every one stamped at or after it is refused with the deadline named."""
    from tests.factories import api_token

    tokens = [api_token(participant(denoising, f"Burst {i:02d}")) for i in range(N_CLIENTS)]
    content_type, body = _multipart(
        {"method_name": "burst"}, "r.zip", results_for(denoising.result_format, ground_truth_bytes(denoising))
    )
    path = f"/api/challenges/{denoising.workshop.slug}/{denoising.slug}/submissions/"
    host = urllib.parse.urlsplit(live_server.url)
    results: list[dict] = [{} for _ in range(N_CLIENTS)]
    connections = [http.client.HTTPConnection(host.hostname, host.port, timeout=60) for _ in range(N_CLIENTS)]
    for conn in connections:
        conn.connect()  # connected before the burst: only the request itself is timed
    deadline_epoch = time.time() + 1.5
    deadline = dt.datetime.fromtimestamp(deadline_epoch, tz=UTC)
    close = Milestone.objects.get(challenge=denoising, kind=Milestone.Kind.TEST_DATA)
    close.at = deadline
    close.save()
    half = len(body) // 2

    def client(i: int) -> None:
        conn = connections[i]
        send_at = deadline_epoch - 0.6 + 1.2 * i / (N_CLIENTS - 1)
        time.sleep(max(0.0, send_at - time.time()))
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Token {tokens[i]}")
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        started = time.time()
        conn.endheaders(message_body=body[:half])
        time.sleep(BODY_DELAY_S)
        rest_at = time.time()
        conn.send(body[half:])
        response = conn.getresponse()
        payload = response.read()
        results[i] = {
            "status": response.status,
            "arrived": dt.datetime.fromisoformat(response.getheader(ARRIVAL_RESPONSE_HEADER)),
            "started": dt.datetime.fromtimestamp(started, tz=UTC),
            "rest": dt.datetime.fromtimestamp(rest_at, tz=UTC),
            "payload": payload,
        }
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    import json

    when = format_in_zone(deadline, denoising.workshop.time_zone)
    accepted = [r for r in results if r["status"] == 201]
    refused = [r for r in results if r["status"] == 400]
    assert len(accepted) + len(refused) == N_CLIENTS, [r["status"] for r in results]
    for r in results:
        # Stamped when the request reached the site: after it was sent, before its body was complete.
        assert r["started"] - dt.timedelta(milliseconds=5) <= r["arrived"] < r["rest"], r
    for r in accepted:
        assert r["arrived"] < deadline
        stored = Submission.objects.get(public_id=json.loads(r["payload"])["id"])
        assert stored.created_at == r["arrived"]  # the stored time is the arrival instant
    for r in refused:
        assert r["arrived"] >= deadline  # none that arrived before the close is refused
        message = json.loads(r["payload"])["errors"][0]
        assert message.startswith(f"The validation phase closed at {when}, ")
    assert accepted and refused
    # Uploads whose body was still arriving at the close but that arrived before it were accepted.
    assert any(r["rest"] > deadline for r in accepted)
    assert Submission.objects.filter(challenge=denoising, team__name__startswith="Burst").count() == len(
        accepted
    )


@pytest.mark.django_db(transaction=True)
def test_requests_over_the_concurrency_limit_wait_stamped_with_their_arrival(
    live_server, denoising, participant, settings
):
    """With WEB_MAX_CONCURRENT_REQUESTS=1, a request that arrives while another is inside the site
    (here: an upload whose body is still coming) waits for it, but is stamped when it arrived."""
    from tests.factories import api_token

    token = api_token(participant(denoising, "Slow"))
    settings.WEB_MAX_CONCURRENT_REQUESTS = 1
    host = urllib.parse.urlsplit(live_server.url)
    page = f"/{denoising.workshop.slug}/challenges/"
    started = time.perf_counter()
    warm = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    warm.request("GET", page)  # alone it is answered at once
    assert warm.getresponse().status == 200
    hold = max(1.0, 5 * (time.perf_counter() - started))
    slow = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    content_type, body = _multipart({"method_name": "slow"}, "r.zip", b"PK" + b"\0" * 200_000)
    slow.putrequest("POST", f"/api/challenges/{denoising.workshop.slug}/{denoising.slug}/submissions/")
    slow.putheader("Authorization", f"Token {token}")
    slow.putheader("Content-Type", content_type)
    slow.putheader("Content-Length", str(len(body)))
    slow.endheaders(message_body=body[:1000])  # inside the site, waiting for the rest of its body
    time.sleep(0.3)
    answered = {}

    def visitor():
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        conn.request("GET", page)
        response = conn.getresponse()
        response.read()
        answered["status"] = response.status
        answered["arrived"] = dt.datetime.fromisoformat(response.getheader(ARRIVAL_RESPONSE_HEADER))
        answered["at"] = dt.datetime.now(tz=UTC)

    waiting = threading.Thread(target=visitor)
    sent = dt.datetime.now(tz=UTC)
    waiting.start()
    time.sleep(hold)  # five times as long as it takes alone
    assert not answered  # held back while the upload is inside
    released = dt.datetime.now(tz=UTC)
    slow.send(body[1000:])
    assert slow.getresponse().status == 400  # read whole, then refused: not a zip
    waiting.join(30)
    assert answered["status"] == 200
    assert sent - dt.timedelta(milliseconds=5) <= answered["arrived"] < released <= answered["at"]
