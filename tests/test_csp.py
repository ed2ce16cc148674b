"""The Content-Security-Policy: every page carries a strict policy (scripts, styles, images from this
site only), and no template the site serves has an inline script, style or event handler that the
policy would block. (The e2e tests run in chromium under the same policy.)"""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conference.seed import DEMO_USERS
from scripts.crawl import crawl

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Rendered to PDF by WeasyPrint on the server, never served to a browser.
PDF_ONLY = {"finalphase/factsheet_pdf.html", "finalphase/results_pdf.html"}
COMMENTS = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}|<!--.*?-->", re.S)
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "htmx inline handler": re.compile(r"\shx-on[:\-]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in PDF_ONLY or name.startswith("account/email/"):
            continue
        text = COMMENTS.sub(lambda m: "\n" * m.group(0).count("\n"), path.read_text())
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {what}")
    assert found == []


class RecordingClient(Client):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.html_responses = []

    def get(self, path, *args, **kwargs):
        response = super().get(path, *args, **kwargs)
        if "text/html" in response.get("Content-Type", ""):
            self.html_responses.append((path, response))
        return response


@pytest.mark.django_db
@pytest.mark.parametrize("email", [None, DEMO_USERS[0][0]])
def test_every_page_carries_the_policy(seeded, email):
    client = RecordingClient()
    if email:
        client.force_login(get_user_model().objects.get(email=email))
    crawl(client, ["/", "/mai-live/", "/mai-2021/"], limit=150)
    assert len(client.html_responses) > 30
    missing = [path for path, r in client.html_responses if "Content-Security-Policy" not in r.headers]
    assert missing == []
    policy = dict(
        part.strip().split(" ", 1)
        for part in client.html_responses[0][1].headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
