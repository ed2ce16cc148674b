"""Visits every page a demo user can reach by following links (GET only), as each of the four demo
accounts and anonymously, and reports any server error. Used by scripts/smoke.py on the embedded
default (SQLite), where database differences would otherwise go unnoticed: the test suite runs on
PostgreSQL."""

import re
import sys
from collections import deque
from urllib.parse import urldefrag, urlsplit

SKIP = re.compile(
    r"/accounts/(logout|confirm-email|password/reset/key)|/admin/|/api/docs/|\.(zip|tflite|npz)$"
)
LINK = re.compile(r"""(?:href|hx-get)=["']([^"'#]+)["']""")


def crawl(client, starts: list[str], limit: int = 400) -> tuple[int, list[str]]:
    seen: set[str] = set()
    queue = deque(starts)
    errors = []
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(f"{response.status_code} {url}")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in LINK.findall(response.content.decode(errors="replace")):
            link = urldefrag(link)[0].replace("&amp;", "&")
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/") or link.startswith("/static/"):
                continue
            if link not in seen:
                queue.append(link)
    return len(seen), errors


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from conference.seed import DEMO_USERS

    starts = ["/", "/mai-live/", "/mai-2021/"]
    failures = []
    for email in [None] + [u[0] for u in DEMO_USERS]:
        client = Client(HTTP_HOST="127.0.0.1")
        if email:
            client.force_login(get_user_model().objects.get(email=email))
        pages, errors = crawl(client, starts)
        print(f"crawl as {email or 'anonymous'}: {pages} pages, {len(errors)} server errors")
        failures += [f"{email}: {e}" for e in errors]
    for failure in failures:
        print("  ", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
