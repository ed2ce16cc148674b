"""The PDF format checker of paper submissions (no Django models: plain inputs, a JSON-able report),
and the anonymised review copy. One concern per module:

- `report`: the format rules, the report and its levels, `PdfRefused`;
- `document`: opening a file (`quick_inspect`: a PDF, not encrypted, opens, within the page cap) and
  reading it once for the checks (pages, sizes, fonts, metadata) with PDFium;
- `layout`: a page read as a layout (lines with boxes and font sizes; ruler, page numbers, running
  heads set apart; text block, columns, the "References" heading);
- `identity`: anonymity matching (names, e-mails, affiliations as whole words and phrases; the chairs'
  `not_identities` never match on their own);
- `checks`: `check_pdf`, one named step per check;
- `review_copy`: `make_review_copy`, the copy reviewers get, without metadata (pypdf);
- `final`: the camera-ready profile (`check_final_pdf`, `FinalRules`): the format checks without
  anonymity, plus size, embedded fonts (figures included), US Letter, no review ruler or header, no
  "Anonymous" authors, the authors named on page 1;
- `isolated`: the site's entry points, `check_isolated` / `quick_inspect_isolated` /
  `check_final_isolated`, which run the above in the sandbox (`common.sandbox`, child functions
  `check_child` / `quick_child` / `final_child`).

The site calls only the isolated entry points on uploaded files: the others are for the child, tests
and benchmarks.
"""

from .checks import check_pdf
from .document import quick_inspect
from .final import FinalRules, check_final_pdf
from .identity import Identity, parse_word_list
from .isolated import check_final_isolated, check_isolated, quick_inspect_isolated
from .report import FormatRules, Level, PdfRefused, QuickInfo, Report
from .review_copy import make_review_copy

__all__ = [
    "FinalRules",
    "FormatRules",
    "Identity",
    "Level",
    "PdfRefused",
    "QuickInfo",
    "Report",
    "check_final_isolated",
    "check_final_pdf",
    "check_isolated",
    "check_pdf",
    "make_review_copy",
    "parse_word_list",
    "quick_inspect",
    "quick_inspect_isolated",
]
