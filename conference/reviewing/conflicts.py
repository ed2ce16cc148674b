"""Conflict-of-interest detection on plain data (no Django): who may not review which paper, and why.

Every address a person listed counts, confirmed or not (a co-author conflict missed through an
unconfirmed address is a known failure of other systems). Rules, each a `Conflict.Source` value:
- "self": the reviewer is an author of the paper;
- "domain": an institution domain of the reviewer equals, or contains/is contained in, one of an author
  (vision.ee.ethz.ch ~ ethz.ch); public webmail and documentation domains do not count;
- "affiliation": the same affiliation, after normalisation;
- "coauthor": the reviewer and an author of the paper are co-authors on another paper of the edition;
- "reviewer": the reviewer declared the author's institution, domain or address a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PUBLIC_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "foxmail.com",
        "naver.com",
        "hanmail.net",
        "example.com",
        "example.org",
        "example.net",
    ]
)


@dataclass
class Person:
    """One author (of a paper) or one reviewer, with everything that identifies them."""

    key: object = None  # user id when the person has an account
    emails: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    affiliations: set[str] = field(default_factory=set)
    # Declared by a reviewer:
    conflict_institutions: set[str] = field(default_factory=set)
    conflict_domains: set[str] = field(default_factory=set)
    conflict_emails: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.emails = {e.strip().lower() for e in self.emails if e and e.strip()}
        self.domains = {d.strip().lower() for d in self.domains if d and d.strip()}
        self.domains |= {e.rsplit("@", 1)[1] for e in self.emails if "@" in e}
        self.affiliations = {normalise(a) for a in self.affiliations if a and normalise(a)}
        self.conflict_institutions = {normalise(a) for a in self.conflict_institutions if normalise(a)}
        self.conflict_domains = {d.strip().lower().lstrip("@") for d in self.conflict_domains if d.strip()}
        self.conflict_emails = {e.strip().lower() for e in self.conflict_emails if e.strip()}

    def same_as(self, other: Person) -> bool:
        return bool((self.key is not None and self.key == other.key) or self.emails & other.emails)


@dataclass(frozen=True)
class Found:
    paper: object
    reviewer: object
    source: str
    evidence: str


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).strip()


def domains_match(a: str, b: str) -> bool:
    if a in PUBLIC_DOMAINS or b in PUBLIC_DOMAINS:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def detect(*, papers: Mapping[object, list[Person]], reviewers: Mapping[object, Person]) -> list[Found]:
    """Every (paper, reviewer, source) conflict, one row per rule that fires (first evidence kept)."""
    found: list[Found] = []
    for reviewer_key, reviewer in reviewers.items():
        # Papers the reviewer wrote, for the co-author rule.
        own_papers = {p for p, authors in papers.items() if any(a.same_as(reviewer) for a in authors)}
        coauthors: list[tuple[object, Person]] = [
            (p, a) for p in own_papers for a in papers[p] if not a.same_as(reviewer)
        ]
        for paper_key, authors in papers.items():
            hits: dict[str, str] = {}
            for author in authors:
                if author.same_as(reviewer):
                    hits.setdefault("self", "the reviewer is an author of this paper")
                for d1 in reviewer.domains:
                    for d2 in author.domains:
                        if domains_match(d1, d2):
                            hits.setdefault("domain", f"reviewer domain {d1} ~ author domain {d2}")
                common = reviewer.affiliations & author.affiliations
                if common:
                    hits.setdefault("affiliation", f"both at “{sorted(common)[0]}”")
                for other_paper, coauthor in coauthors:
                    if other_paper != paper_key and coauthor.same_as(author):
                        hits.setdefault("coauthor", f"co-authors on paper #{other_paper}")
                declared = _declared(reviewer, author)
                if declared:
                    hits.setdefault("reviewer", declared)
            found.extend(
                Found(paper_key, reviewer_key, source, evidence) for source, evidence in hits.items()
            )
    return found


def _declared(reviewer: Person, author: Person) -> str:
    if reviewer.conflict_emails & author.emails:
        return f"declared person {sorted(reviewer.conflict_emails & author.emails)[0]}"
    for d1 in reviewer.conflict_domains:
        for d2 in author.domains:
            if d1 == d2 or d2.endswith("." + d1):
                return f"declared domain {d1}"
    for institution in reviewer.conflict_institutions:
        for affiliation in author.affiliations:
            if institution and (institution in affiliation or affiliation in institution):
                return f"declared institution “{institution}”"
    return ""


def people(emails: Iterable[str] = (), **kwargs) -> Person:
    return Person(emails=set(emails), **kwargs)
