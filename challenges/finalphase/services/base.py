"""What every final-phase write shares: the refusal it raises and reading an upload within its limit."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class FinalPhaseRefused(ValidationError):
    """A refused upload or change; `.messages` say what to fix, `.reason` names the rule. Nothing was
    stored."""

    def __init__(self, messages: list[str], *, code: str = "invalid"):
        super().__init__(messages)
        self.reason = code


def read_upload(upload, *, limit_mb: int, label: str) -> bytes:
    """The upload's bytes; refused when larger than `limit_mb` or empty."""
    size = getattr(upload, "size", None)
    if size is not None and size > limit_mb * 1024 * 1024:
        raise FinalPhaseRefused(
            [f"The {label} is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb} MB."], code="too_big"
        )
    upload.seek(0)
    data = upload.read(limit_mb * 1024 * 1024 + 1)
    if len(data) > limit_mb * 1024 * 1024:
        raise FinalPhaseRefused([f"The {label} is larger than the limit of {limit_mb} MB."], code="too_big")
    if not data:
        raise FinalPhaseRefused([f"The {label} is empty (0 bytes)."], code="empty")
    return data
