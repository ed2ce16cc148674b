"""The leak test: log in as every reviewer of a seeded edition, visit every page and file they can
reach from the edition's pages, and find no author's name, e-mail or affiliation anywhere (PDF text
and metadata included); then the same for the author after release, looking for reviewers."""

import io
import re
from urllib.parse import urljoin, urlparse

import pytest
from pypdf import PdfReader

from conference.models import PaperAuthor

pytestmark = pytest.mark.django_db
START = ["/rev-test/review/", "/rev-test/", "/rev-test/review/bids/", "/rev-test/review/profile/"]
HREF = re.compile(r"""(?:href|hx-get|action)=["']([^"'#]+)["']""")


def crawl(client, limit=300):
    """Every page and file reachable by GET from the start pages, without leaving the edition."""
    seen, queue, found = set(), list(START), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        found[url] = (content_type, body, response.get("Content-Disposition", ""))
        if "html" in content_type:
            for link in HREF.findall(body.decode()):
                target = urlparse(urljoin(url, link.replace("&amp;", "&")))
                if target.netloc or not target.path.startswith("/rev-test/") or "logout" in target.path:
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def readable(content_type: str, body: bytes, disposition: str) -> str:
    """All text a person could read from a response, PDFs included (text and metadata)."""
    if body[:5] == b"%PDF-":
        reader = PdfReader(io.BytesIO(body))
        parts = [str(v) for v in (reader.metadata or {}).values()]
        if reader.xmp_metadata is not None:
            parts.append(str(reader.xmp_metadata.rdf_root.toxml()))
        parts += [page.extract_text() or "" for page in reader.pages]
        return "\n".join(parts) + disposition
    return body.decode(errors="replace") + disposition


def identities(authors) -> set[str]:
    values = set()
    for author in authors:
        values |= {author.name, author.name.split()[-1], author.email, author.affiliation}
    return {v.lower() for v in values if v}


def test_no_reviewer_ever_sees_an_author_identity(client, reviewed):
    reviewers = reviewed["reviewers"]
    checked = 0
    for user in reviewers.values():
        client.force_login(user)
        own = {a.paper_id for a in PaperAuthor.objects.all() if a.email in user.profile.all_emails()}
        secrets = identities(PaperAuthor.objects.exclude(paper_id__in=own))
        pages = crawl(client)
        pdfs = [u for u, (_, body, _) in pages.items() if body[:5] == b"%PDF-"]
        for url, response in pages.items():
            text = readable(*response).lower()
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{user.email} sees {leaked} at {url}"
        checked += len(pages)
        if user == reviewers["rita"]:
            # Rita reaches her paper #1 and its PDF, and nothing of #2/#3.
            assert "/rev-test/review/papers/1/paper.pdf" in pdfs
            assert not any("/papers/3/" in u for u in pages)
    assert checked > 30
    # The original upload does carry the author in its metadata: the test would see it.
    original = PdfReader(reviewed["papers"][0].versions.get().original.open("rb"))
    assert "Alice Authorson" in str(original.metadata.get("/Author"))


def test_the_author_never_sees_a_reviewer_identity(client, reviewed):
    from conference.reviewing import services

    services.decisions_release(
        workshop=reviewed["workshop"], subject="{decision}", body="{url}", user=reviewed["chair"]
    )
    client.force_login(reviewed["author"])
    secrets = set()
    for user in reviewed["reviewers"].values():
        secrets |= {user.profile.full_name.lower(), user.email.lower(), user.profile.affiliation.lower()}
    pages = crawl(client)
    assert "/rev-test/review/my-papers/1/reviews/" in pages
    for url, response in pages.items():
        if "/my-papers/" in url and url.endswith("/conflicts/"):
            continue  # the committee list authors declare conflicts with (as in HotCRP), not reviewers of a paper
        text = readable(*response).lower()
        assert not [s for s in secrets if s in text], url
