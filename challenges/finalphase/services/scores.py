"""Settings and scores: a track's final-phase settings (formula, constants, limits, device), the
instant the final leaderboard is released, and every score recomputed when the formula changes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from challenges.models import Challenge, Milestone

from ..formula import FormulaError, formula_parse, formula_validate
from ..models import FinalPhaseSettings, ModelSubmission
from .base import FinalPhaseRefused


def final_settings_get(*, challenge: Challenge) -> FinalPhaseSettings:
    """The track's settings, stored with their defaults on first use (reads that must not write use
    `selectors.final_settings_for`)."""
    settings, _ = FinalPhaseSettings.objects.get_or_create(
        challenge=challenge, defaults={"constants": {"C": 1.0}}
    )
    return settings


def final_settings_update(*, challenge: Challenge, **fields) -> FinalPhaseSettings:
    """Validates the formula with its constants (parse + one evaluation on plausible values), saves,
    and recomputes every score of the challenge. Raises `FinalPhaseRefused` leaving the old settings."""
    with transaction.atomic():
        settings = FinalPhaseSettings.objects.select_for_update().get(
            pk=final_settings_get(challenge=challenge).pk
        )
        for name, value in fields.items():
            setattr(settings, name, value)
        try:
            formula_validate(settings.score_formula, constants=settings.constants)
        except FormulaError as exc:
            raise FinalPhaseRefused([exc.message], code="formula") from exc
        settings.full_clean()
        settings.save()
        scores_recompute(challenge=challenge, settings=settings)
    return settings


def results_release_set(*, challenge: Challenge, at: dt.datetime) -> dt.datetime:
    """Moves the "preliminary test results released" milestone (participants see the final
    leaderboard from that instant on)."""
    if timezone.is_naive(at):
        raise FinalPhaseRefused(["Give the release time with its time zone."], code="naive")
    Milestone.objects.update_or_create(
        challenge=challenge, kind=Milestone.Kind.PRELIMINARY_RESULTS, defaults={"at": at}
    )
    return at


def score_compute(*, submission: ModelSubmission, settings: FinalPhaseSettings) -> tuple[float | None, str]:
    try:
        formula = formula_parse(settings.score_formula, constants=settings.constants)
        return formula.evaluate(submission.quantities()), ""
    except FormulaError as exc:
        return None, exc.message[:300]


def scores_recompute(*, challenge: Challenge, settings: FinalPhaseSettings | None = None) -> int:
    """Recomputes the score of every measured submission of the challenge; returns how many."""
    settings = settings or final_settings_get(challenge=challenge)
    count = 0
    for submission in ModelSubmission.objects.filter(challenge=challenge, status=ModelSubmission.Status.DONE):
        score, error = score_compute(submission=submission, settings=settings)
        ModelSubmission.objects.filter(pk=submission.pk).update(score=score, score_error=error)
        count += 1
    return count
