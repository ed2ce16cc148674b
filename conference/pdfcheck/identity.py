"""Anonymity matching: what of the authors' identity (names, e-mails, affiliations) a text contains,
as whole words and phrases, each quoted with its context. The chairs' `not_identities` (device makers,
datasets) are never an identity on their own: a match lying wholly inside one of them is skipped."""

import re
import unicodedata
from dataclasses import dataclass

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Identity:
    """What must not appear in an anonymous submission."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    # Words and phrases that are never an identity on their own (device makers, datasets), set by the
    # chairs per edition: a match lying wholly inside one of them is not reported.
    not_identities: tuple[str, ...] = ()


NO_IDENTITY = Identity()  # nothing to look for (a check without anonymity, a test)


def parse_word_list(text: str) -> tuple[str, ...]:
    """A chair's list of words and phrases, one per line or comma-separated, blanks dropped."""
    return tuple(dict.fromkeys(w.strip() for w in re.split(r"[,;\n]", text or "") if w.strip()))


def normalise(text: str) -> str:
    """NFKC, words hyphenated across lines joined again, whitespace collapsed; case is kept."""
    text = unicodedata.normalize("NFKC", text.replace("\ufffe", "-").replace("\x02", "-"))
    text = re.sub(r"-\s*\n\s*", "", text)  # words hyphenated across lines
    return re.sub(r"\s+", " ", text)


def _phrase_pattern(phrase: str) -> re.Pattern | None:
    """A whole-word, whitespace-tolerant pattern for `phrase`: case-insensitive, except acronyms of up
    to five capitals ("MIT", "KAIST"), which match only as written."""
    words = re.split(r"\s+", unicodedata.normalize("NFKC", phrase).strip())
    words = [w for w in words if w]
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    flags = 0 if len(words) == 1 and re.fullmatch(r"[A-Z0-9&]{2,5}", words[0]) else re.I
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", flags)


def _name_patterns(name: str) -> list[re.Pattern]:
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    if not parts:
        return []
    forms = {" ".join(parts)}
    if len(parts) >= 2:
        forms.add(f"{parts[0][0]}. {' '.join(parts[1:])}")  # "A. Author"
        forms.add(f"{' '.join(parts[1:])}, {parts[0]}")  # "Author, Alex"
    return [
        re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in form.split()) + r"(?!\w)", re.I)
        for form in forms
    ]


def _affiliation_patterns(affiliation: str) -> list[re.Pattern]:
    """The affiliation as given, and its first part ("Samsung AI Center" of "Samsung AI Center, Moscow")."""
    forms = {affiliation.strip(), affiliation.split(",")[0].strip()}
    return [p for p in (_phrase_pattern(f) for f in forms if len(f) >= 2) if p]


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    """The match with about `width` characters of context on each side, cut at word boundaries."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return f"{'…' if left > 0 else ''}{text[left:right].strip()}{'…' if right < len(text) else ''}"


def _masks(text: str, not_identities: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans of `text` covered by the chairs' words that are never an identity."""
    masks = []
    for phrase in not_identities:
        pattern = _phrase_pattern(phrase)
        if pattern:
            masks.extend(m.span() for m in pattern.finditer(text))
    return masks


def _first_match(
    text: str, patterns: list[re.Pattern], masks: list[tuple[int, int]]
) -> tuple[int, int, int] | None:
    """The first unmasked match of any of `patterns` (start, end) and how many places matched."""
    spans = sorted(
        span
        for pattern in patterns
        for span in (m.span() for m in pattern.finditer(text))
        if not any(a <= span[0] and span[1] <= b for a, b in masks)
    )
    return (*spans[0], len({start for start, _ in spans})) if spans else None


def find_identity(text: str, identity: Identity) -> list[str]:
    """What of `identity` the (normalised) `text` contains, each with the snippet where it was found.
    Names, e-mails and affiliations match as whole words and phrases; a match lying wholly inside one
    of the chairs' `not_identities` ("Samsung" inside "Samsung Exynos 2100", if listed) is skipped."""
    masks = _masks(text, identity.not_identities)
    found = []

    def report(kind: str, value: str, patterns: list[re.Pattern]) -> None:
        hit = _first_match(text, patterns, masks)
        if hit:
            start, end, count = hit
            times = f" ({count} times)" if count > 1 else ""
            found.append(f"{kind} “{value}” in “{_snippet(text, start, end)}”{times}")

    for name in identity.names:
        report("author name", name, _name_patterns(name))
    for email in identity.emails:
        if email:
            report("e-mail", email, [re.compile(re.escape(email.strip()), re.I)])
    for affiliation in identity.affiliations:
        report("affiliation", affiliation.strip(), _affiliation_patterns(affiliation))
    return found


def other_emails(text: str, identity: Identity) -> list[str]:
    """E-mail addresses in `text` that are not the authors' own (those are reported by name), sorted."""
    if "@" not in text:
        return []
    return sorted({e.lower() for e in EMAIL_RE.findall(text)} - {e.lower() for e in identity.emails})
