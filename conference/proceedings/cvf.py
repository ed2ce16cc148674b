"""The CVF open-access conventions, as plain functions (no Django): file names of papers, BibTeX
entries, page ranges.

- File names as on openaccess.thecvf.com: the first author's last name, then the first `TITLE_WORDS`
  (10) words of the whole title, then `<CONF>W_<year>_paper.pdf`, all ASCII-folded ("Müller" →
  "Muller"), words joined by `_`, hyphens kept, other punctuation dropped. A colon or comma does not
  end the title: CVF's own files run across it, e.g. (CVPR 2021 workshops)
  `Choi_MobileHumanPose_Toward_Real-Time_3D_Human_Pose_Estimation_in_Mobile_Devices_CVPRW_2021_paper.pdf`
  ("MobileHumanPose: Toward Real-Time 3D Human Pose Estimation in Mobile Devices"),
  `Abuolaim_NTIRE_2021_Challenge_for_Defocus_Deblurring_Using_Dual-Pixel_Images_Methods_CVPRW_2021_paper.pdf`
  ("…Using Dual-Pixel Images: Methods and Results", cut after ten words).
- BibTeX as CVF publishes it: `@InProceedings{Ignatov_2021_CVPR, author = {Ignatov, Andrey and
  Timofte, Radu}, title = {…}, booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision
  and Pattern Recognition (CVPR) Workshops}, month = {June}, year = {2021}, pages = {1-8}}`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

TITLE_WORDS = 10
BOOKTITLES = {  # as CVF's open-access BibTeX writes them for each host's workshops
    "CVPR": "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR) Workshops",
    "ICCV": "Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV) Workshops",
    "WACV": "Proceedings of the IEEE/CVF Winter Conference on Applications of Computer Vision (WACV) Workshops",
}
BOOKTITLE = BOOKTITLES["CVPR"]
_KEEP = re.compile(r"[^A-Za-z0-9-]+")
_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_"}
_BIBTEX_SPECIAL_RE = re.compile(r"[\\&%$#_]")


def ascii_fold(text: str) -> str:
    """Accents dropped, other non-ASCII letters replaced by their closest ASCII (ß → ss, Ø → O)."""
    text = text.replace("ß", "ss").replace("Ø", "O").replace("ø", "o").replace("Ł", "L").replace("ł", "l")
    text = text.replace("Æ", "AE").replace("æ", "ae").replace("Œ", "OE").replace("œ", "oe")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def last_name(name: str) -> str:
    """ "Andrey Ignatov" → "Ignatov"; "Ignatov, Andrey" → "Ignatov"."""
    name = " ".join(name.split())
    if "," in name:
        return name.split(",", 1)[0].strip()
    return name.rsplit(" ", 1)[-1] if name else ""


def first_names(name: str) -> str:
    name = " ".join(name.split())
    if "," in name:
        return name.split(",", 1)[1].strip()
    return name.rsplit(" ", 1)[0] if " " in name else ""


def _words(text: str) -> list[str]:
    return [w for w in (_KEEP.sub("", word).strip("-") for word in ascii_fold(text).split()) if w]


def conference_tag(host_conference: str) -> str:
    """ "CVPR 2021" → "CVPRW" (the workshops of the host conference)."""
    letters = re.match(r"[A-Za-z]+", ascii_fold(host_conference).strip())
    return (letters.group(0).upper() if letters else "CVPR") + "W"


def booktitle(host_conference: str) -> str:
    """ "CVPR 2021" → CVPR's workshop booktitle; ICCV and WACV have their own; others get CVPR's."""
    return BOOKTITLES.get(conference_tag(host_conference)[:-1], BOOKTITLE)


def paper_file_name(*, first_author: str, title: str, host_conference: str, year: int) -> str:
    words = _words(last_name(first_author))[:1] + _words(title)[:TITLE_WORDS]
    return "_".join([*(words or ["Paper"]), conference_tag(host_conference), str(year), "paper.pdf"])


def unique_names(names: list[str]) -> list[str]:
    """The same names with `_2`, `_3`… before `_paper.pdf` where two papers would collide."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else name.replace("_paper.pdf", f"_{count}_paper.pdf"))
    return out


@dataclass(frozen=True)
class PageRange:
    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def page_ranges(page_counts: list[int], *, start: int = 1) -> list[PageRange]:
    """Consecutive ranges in the given (programme) order: [8, 6] → 1-8, 9-14."""
    ranges, page = [], start
    for count in page_counts:
        ranges.append(PageRange(page, page + count - 1))
        page += count
    return ranges


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def bibtex_escape(text: str) -> str:
    """LaTeX's special characters escaped; braces kept when balanced (they protect capitals), dropped
    otherwise (an unbalanced brace would end the field)."""
    text = " ".join(text.split())
    if not _balanced(text):
        text = text.replace("{", "").replace("}", "")
    return _BIBTEX_SPECIAL_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group(0)], text)


def bibtex_author(name: str) -> str:
    last, first = last_name(name), first_names(name)
    return f"{last}, {first}" if first else last


def bibtex_keys(first_authors: list[str], *, year: int, host_conference: str) -> list[str]:
    """CVF's keys (`Ignatov_2021_CVPR`), made unique with a, b, c… when several share one."""
    conference = conference_tag(host_conference)[:-1]
    bases = [f"{''.join(_words(last_name(a))[:1]) or 'Anonymous'}_{year}_{conference}" for a in first_authors]
    totals = {base: bases.count(base) for base in bases}
    seen: dict[str, int] = {}
    keys = []
    for base in bases:
        index = seen.get(base, 0)
        seen[base] = index + 1
        keys.append(base if totals[base] == 1 else f"{base}{chr(ord('a') + index)}")
    return keys


def bibtex_entry(
    *,
    key: str,
    authors: list[str],
    title: str,
    month: str,
    year: int,
    pages: PageRange | None,
    booktitle: str = BOOKTITLE,
) -> str:
    """One entry; without `pages` (no proceedings built yet) the field is left out, never made up."""
    fields = [
        ("author", " and ".join(bibtex_escape(bibtex_author(a)) for a in authors)),
        ("title", bibtex_escape(title)),
        ("booktitle", booktitle),
        ("month", month),
        ("year", str(year)),
    ]
    if pages is not None:
        fields.append(("pages", str(pages)))
    body = ",\n".join(f"    {name:<9} = {{{value}}}" for name, value in fields)
    return f"@InProceedings{{{key},\n{body}\n}}\n"
