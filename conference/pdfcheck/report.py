"""The plain data of the PDF checks: the format rules an edition sets, the report handed to authors and
chairs (items with a level), and the refusal of a file that cannot be accepted at all."""

from dataclasses import asdict, dataclass, field


class Level:
    ERROR = "error"
    WARNING = "warning"
    OK = "ok"
    INFO = "info"


@dataclass(frozen=True)
class FormatRules:
    page_limit: int = 8
    references_excluded: bool = True
    paper_size: str = "US Letter"
    double_column: bool = True
    body_font_pt: float = 10.0
    text_block_in: tuple[float, float] = (6.875, 8.875)


@dataclass
class Report:
    items: list[dict] = field(default_factory=list)
    pages: int = 0
    content_pages: int | None = None
    references_page: int | None = None
    body_font_pt: float | None = None
    seconds: float = 0.0

    def add(self, code: str, level: str, title: str, message: str) -> None:
        self.items.append({"code": code, "level": level, "title": title, "message": message})

    @property
    def errors(self) -> list[dict]:
        return [i for i in self.items if i["level"] == Level.ERROR]

    @property
    def warnings(self) -> list[dict]:
        return [i for i in self.items if i["level"] == Level.WARNING]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["error_count"] = len(self.errors)
        data["warning_count"] = len(self.warnings)
        return data


class PdfRefused(Exception):
    """The file cannot be accepted at all (the message says why, for the author)."""


@dataclass(frozen=True)
class QuickInfo:
    pages: int
