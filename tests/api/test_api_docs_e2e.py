"""In chromium: a person makes an API token on /account/tokens/ at phone width (390 px), copies it, and
reads the API's documentation — Swagger UI and Redoc served from the site's own static files under its
Content-Security-Policy (no CDN, no inline script; the browser reports no CSP violation)."""

import os
from pathlib import Path

import pytest

from apitokens.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(os.environ.get("VAR_DIR", "var")) / "screenshots"


def _watch(page) -> list[str]:
    """Console errors and requests that leave the site."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} @ {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_token_page_and_api_docs_in_chromium(live_server, page, make_user, password):
    SHOTS.mkdir(parents=True, exist_ok=True)
    make_user(email="docs@uni.example")
    problems = _watch(page)
    outside: list[str] = []
    site = (live_server.url, "blob:" + live_server.url)
    page.on("response", lambda r: outside.append(r.url) if not r.url.startswith(site) else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("docs@uni.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Read and submit").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").inner_text()
    assert secret.startswith("mai_") and ApiToken.objects.get().scope == "submit"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=str(SHOTS / "api-tokens-390.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("MAI workshop API")
    page.get_by_text("/api/conference/papers/", exact=True).first.wait_for()
    page.screenshot(path=str(SHOTS / "api-docs-swagger.png"))
    assert problems == []  # no CSP violation, no failed request, no script error

    page.goto(f"{live_server.url}/api/redoc/")
    page.get_by_role("heading", name="MAI workshop API").first.wait_for()
    page.get_by_role(
        "heading", name="Submit a paper (as the submit page: same checks, same deadline)"
    ).wait_for()
    page.screenshot(path=str(SHOTS / "api-docs-redoc.png"))
    # Redoc's bundle shows its "API docs by Redocly" logo from cdn.redoc.ly: the CSP blocks it, and that
    # is the page's only complaint (its styles carry the nonce, its search worker is allowed).
    assert len(problems) == 1 and problems[0].startswith("Loading the image 'https://cdn.redoc.ly/")
    assert outside == []  # nothing was fetched from anywhere but the site
