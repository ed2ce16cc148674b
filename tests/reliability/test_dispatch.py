"""The dispatch outbox (common.dispatch) against a real Redis: a message is recorded with the work it
stands for, sent after commit, kept while the broker is down and sent once it is back; the sweeps leave
work whose message waits in the outbox to the dispatcher."""

import time

import pytest
from django.db import transaction

from common.dispatch import dispatch, dispatch_history, dispatch_send, dispatch_waiting
from common.models import Dispatch

from .procs import RedisServer, free_port, site_broker

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_length(url: str, queue: str) -> int:
    import redis

    return redis.Redis.from_url(url).llen(queue)


def test_a_rolled_back_transaction_sends_nothing(broker):
    def failing_request():
        with transaction.atomic():
            dispatch("config.ping", args=["x"], queue="reliability-a", ref="test:1")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        failing_request()
    assert not Dispatch.objects.exists()
    assert _queue_length(broker.url, "reliability-a") == 0


def test_sent_after_commit_kept_while_the_broker_is_down_then_sent_once():
    redis = RedisServer()
    redis.start()
    try:
        down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        with site_broker(down):
            started = time.monotonic()
            with transaction.atomic():
                row = dispatch("config.ping", args=["x"], queue="reliability-b", ref="test:2")
            waited = time.monotonic() - started
        row.refresh_from_db()
        assert row.sent_at is None and "Connection refused" in row.last_error
        assert row.send_attempts == 1
        assert waited < 5  # the request that wrote it does not hang on the broker
        assert dispatch_waiting("test:2")
        with site_broker(redis.url):
            assert dispatch_send() == {"sent": 1, "pending": 0, "error": ""}
            assert dispatch_send() == {"sent": 0, "pending": 0, "error": ""}  # sent once
        row.refresh_from_db()
        assert row.sent_at is not None and row.last_error == ""
        assert not dispatch_waiting("test:2")
        assert _queue_length(redis.url, "reliability-b") == 1
        history = dispatch_history("test:2")
        assert (history.count, history.pending) == (1, 0)
    finally:
        redis.stop()
