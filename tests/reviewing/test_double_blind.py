"""The leak test: log in as every reviewer of a seeded edition, visit every page and file they can
reach from the edition's pages, and find no author's name, e-mail or affiliation anywhere (PDF text
and metadata included); then the same for the author after release, looking for reviewers."""

import io
import re
from urllib.parse import urljoin, urlparse

import pytest
from django.contrib.auth.models import Permission
from pypdf import PdfReader

from conference.models import PaperAuthor
from conference.reviewing.domain.decisions import decisions_release
from conference.reviewing.domain.discussion import comment_post, meta_review_save
from conference.reviewing.models import Assignment, Bid, Review

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
    decisions_release(
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


P2_SECRETS = [
    # What only paper #2's reviewing holds (the chair co-authors #2): review and discussion texts…
    "p2-strengths-marker",
    "p2-confidential-marker",
    "p2-discussion-marker",
    "p2-meta-marker",
    # …and how the admin names its rows (Assignment, Review, Comment/Bid, MetaReview, Decision).
    "#2 ← ",
    "review of #2",
    " on #2",
    "meta-review of #2",
    "conflict #2 ×",
    "#2: reject",
    # The outbox tells who was assigned what.
    "paper(s) assigned to you",
]


def admin_crawl(client, limit=400):
    """Every admin page reachable by GET from the index (query strings dropped: unfiltered lists
    show every row the viewer may see), delete confirmations and histories included."""
    seen, queue, found = set(), ["/admin/"], {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        body = response.content.decode(errors="replace")
        found[url] = body
        for link in HREF.findall(body):
            target = urlparse(urljoin(url, link.replace("&amp;", "&")))
            path = target.path
            if target.netloc or not path.startswith("/admin/") or re.search(r"logout|password|jsi18n", path):
                continue
            queue.append(path)
    return found


@pytest.fixture
def conflicted_chair(reviewed):
    """The chair, staff with every model permission the demo seed gives chairs, co-authors paper #2,
    whose reviewing carries unique markers."""
    papers, r, chair = reviewed["papers"], reviewed["reviewers"], reviewed["chair"]
    Review.objects.filter(assignment__paper=papers[1], assignment__user=r["sam"]).update(
        strengths="P2-STRENGTHS-MARKER", confidential_comments="P2-CONFIDENTIAL-MARKER"
    )
    comment_post(paper=papers[1], user=r["sam"], text="P2-DISCUSSION-MARKER", as_chair=False)
    meta_review_save(paper=papers[1], user=chair, text="P2-META-MARKER")
    Bid.objects.create(paper=papers[1], user=r["rita"], value="eager")
    PaperAuthor.objects.create(
        paper=papers[1],
        order=5,
        name="Charlotte Chairwoman",
        email=chair.email,
        affiliation="Chair U",
        user=chair,
    )
    chair.is_staff = True
    chair.save(update_fields=["is_staff"])
    chair.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["conference", "reviewing", "challenges", "evaluation"]
        )
    )
    return chair


def test_a_conflicted_chair_sees_nothing_of_their_paper_s_reviewing_in_the_admin(client, conflicted_chair):
    client.force_login(conflicted_chair)
    pages = admin_crawl(client)
    for url, body in pages.items():
        text = body.lower()
        leaked = [s for s in P2_SECRETS if s in text]
        assert not leaked, f"the conflicted chair sees {leaked} at {url}"
    # The crawl did reach the reviewing rows the chair may see, and their own paper's pages.
    assert any("please add latency on more phones." in b.lower() for b in pages.values())
    assert any(u.startswith("/admin/reviewing/review/") and u.endswith("/change/") for u in pages)
    assert any(u.startswith("/admin/conference/paper/") and u.endswith("/delete/") for u in pages)
    assert len(pages) > 40


def test_a_superuser_sees_everything_in_the_admin(client, conflicted_chair):
    """The same crawl as a superuser finds every marker: the test above would see a leak."""
    conflicted_chair.is_superuser = True
    conflicted_chair.save(update_fields=["is_superuser"])
    client.force_login(conflicted_chair)
    text = "\n".join(admin_crawl(client).values()).lower()
    assert [s for s in P2_SECRETS if s not in text] == []


def test_the_admin_is_read_only_for_chairs_and_hides_rows_by_id(client, conflicted_chair, reviewed):
    client.force_login(conflicted_chair)
    hidden = Review.objects.get(
        assignment__paper=reviewed["papers"][1], assignment__user=reviewed["reviewers"]["sam"]
    )
    response = client.get(f"/admin/reviewing/review/{hidden.pk}/change/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "p2-strengths-marker" not in response.content.decode().lower()
    visible = Assignment.objects.filter(paper=reviewed["papers"][0]).first()
    page = client.get(f"/admin/reviewing/assignment/{visible.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # viewed, not editable
    assert client.get("/admin/reviewing/assignment/add/").status_code == 403
    assert (
        client.post(f"/admin/reviewing/assignment/{visible.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Assignment.objects.filter(pk=visible.pk).exists()
