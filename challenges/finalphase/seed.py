"""Demo final-phase settings for the seeded MAI tracks (idempotent): MAI's score formulas with C = 1,
runtime on `host-cpu` (the device the embedded worker registers), own numbers shown early in the live
edition so the whole final phase can be tried at once."""

from django.db import transaction

from challenges.models import Challenge

from .models import FinalPhaseSettings


def formula_for(challenge: Challenge) -> str:
    keys = {m.get("key") for m in challenge.metrics or []}
    if "psnr" in keys:
        return "2 ** (2 * psnr) / (C * runtime_ms)"
    if "si_rmse" in keys:
        return "2 ** (-20 * si_rmse) / (C * runtime_ms)"
    if keys & {"top1", "accuracy_top1"}:
        return "accuracy_top1 / (C * runtime_ms)"
    return "1 / (C * runtime_ms)"


@transaction.atomic
def seed_demo(*, stdout=None) -> None:
    count = 0
    for challenge in Challenge.objects.filter(workshop__slug__in=["mai-2021", "mai-live"]):
        _, created = FinalPhaseSettings.objects.get_or_create(
            challenge=challenge,
            defaults={
                "score_formula": formula_for(challenge),
                "constants": {"C": 1.0},
                "show_own_results_early": challenge.workshop.slug == "mai-live",
                "public_after_workshop": challenge.workshop.slug == "mai-2021",
            },
        )
        count += created
    if stdout:
        stdout.write(f"Final phase: settings for {count} track(s).\n")
