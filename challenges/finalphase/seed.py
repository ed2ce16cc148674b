"""Demo final-phase settings for the seeded MAI tracks (idempotent): MAI's score formulas with C = 1,
runtime on `host-cpu` (the device the embedded worker registers), own numbers shown early in the live
edition so the whole final phase can be tried at once.

In the live edition, the demo teams (`challenges.seed.seed_demo_teams`, with scored validation results)
are created here; those of the tracks in the final phase and with results released
(`challenges.seed.LIVE_PHASES`) get one measured final submission each: fidelity from their results on
the hidden test data scored by `challenges.scoring`, runtime and memory as demo figures (stated on the
submission as "Host CPU (demo figures)"), the score from the track's formula. No model file is stored
for them (a seeded submission has no model to download). Teams of the released track also get a
fact sheet and a code link, so they are ranked."""

import datetime as dt

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from challenges import scoring
from challenges.models import Challenge, DataFile, Milestone
from challenges.seed import LIVE_PHASES, seed_demo_teams

from .models import CodeSubmission, FactSheet, FinalPhaseSettings, ModelSubmission
from .services.scores import score_compute

DEMO_RUNTIMES_MS = [38.5, 21.0, 64.0]


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
    seed_demo_teams()
    for challenge in Challenge.objects.filter(workshop__slug="mai-live", slug__in=list(LIVE_PHASES)):
        _seed_final_submissions(challenge, released=LIVE_PHASES[challenge.slug] == "released")
    if stdout:
        stdout.write(f"Final phase: settings for {count} track(s).\n")


def _seed_final_submissions(challenge: Challenge, *, released: bool) -> None:
    settings = FinalPhaseSettings.objects.get(challenge=challenge)
    gt = challenge.data_files.filter(split=DataFile.Split.TEST_GT).first()
    if gt is None:
        return
    with gt.file.open("rb") as fh:
        truth = fh.read()
    opened = challenge.milestones.filter(kind=Milestone.Kind.TEST_DATA).first()
    submitted_at = min(timezone.now(), (opened.at if opened else timezone.now()) + dt.timedelta(days=1))
    from challenges import demo_data

    for index, team in enumerate(challenge.teams.order_by("name")):
        if ModelSubmission.objects.filter(team=team).exists():
            continue
        results = demo_data.results_for(
            challenge.result_format, truth, noise=3.0 + 3 * index, seed=10 + index
        )
        scored = scoring.score(
            result_format=challenge.result_format,
            submission=results,
            ground_truth=truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
        metrics = dict(scored.scores)
        submission = ModelSubmission(
            challenge=challenge,
            team=team,
            submitted_by=team.created_by,
            method_name=f"{team.name} net (demo data)",
            status=ModelSubmission.Status.DONE,
            fidelity_status=ModelSubmission.Step.DONE,
            runtime_status=ModelSubmission.Step.DONE,
            metrics=metrics,
            runtime_ms=DEMO_RUNTIMES_MS[index % len(DEMO_RUNTIMES_MS)],
            memory_mb=42.0 + 10 * index,
            device_name="Host CPU (demo figures)",
            finished_at=submitted_at,
        )
        submission.score, submission.score_error = score_compute(submission=submission, settings=settings)
        submission.results.save("results.zip", ContentFile(results), save=False)
        submission.save()
        ModelSubmission.objects.filter(pk=submission.pk).update(created_at=submitted_at)
        if released:
            FactSheet.objects.get_or_create(
                team=team,
                defaults={
                    "challenge": challenge,
                    "team_name": team.name,
                    "members": [{"name": team.created_by.profile.full_name, "affiliation": "", "email": ""}],
                    "contact_name": team.created_by.profile.full_name,
                    "contact_email": team.created_by.email,
                    "method_title": f"{team.name} net",
                    "method_description": "A small residual network trained with L1 loss (demo data).",
                    "architecture_training": "8 conv layers, 32 channels; Adam, 200k steps (demo data).",
                    "training_data_hardware": "The track's training data; one GPU (demo data).",
                },
            )
            CodeSubmission.objects.get_or_create(
                team=team,
                defaults={"challenge": challenge, "repository_url": f"https://example.com/{team.pk}/code"},
            )
