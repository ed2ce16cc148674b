"""Every page of the seeded demo that each demo user reaches by following links answers without a
server error (on PostgreSQL; scripts/smoke.py does the same on SQLite)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conference.seed import DEMO_USERS
from scripts.crawl import crawl

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("email", [None] + [u[0] for u in DEMO_USERS])
def test_no_page_reachable_by_a_demo_user_fails(seeded, email):
    client = Client()
    if email:
        client.force_login(get_user_model().objects.get(email=email))
    pages, errors = crawl(client, ["/", "/mai-live/", "/mai-2021/"])
    assert errors == []
    assert pages > 50
