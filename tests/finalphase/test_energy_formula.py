"""`energy_mj` (energy per inference above idle, measured by the runtime job) as a score-formula
variable: the finished job's value reaches the submission through the runtime receiver, and a formula
over it ranks the teams by it."""

import pytest

from challenges.finalphase import selectors
from challenges.finalphase.formula import QUANTITIES, formula_validate
from challenges.finalphase.models import ModelSubmission
from challenges.finalphase.services import scores, submissions
from evaluation.models import RuntimeJob
from tests.factories import RuntimeJobFactory
from tests.finalphase.conftest import complete_for_ranking, make_team, measured


def _runtime_finished(submission, *, mean_ms, power_w, energy_mj):
    """The submission as it waits for its runtime job, and that job finishing with these figures."""
    job = RuntimeJobFactory(
        purpose=submissions.RUNTIME_PURPOSE,
        state=RuntimeJob.State.DONE,
        mean_ms=mean_ms,
        peak_memory_mb=12.0,
        power_w=power_w,
        energy_mj=energy_mj,
    )
    ModelSubmission.objects.filter(pk=submission.pk).update(
        status=ModelSubmission.Status.RUNNING,
        runtime_status=ModelSubmission.Step.RUNNING,
        runtime_job_id=job.pk,
        score=None,
    )
    submissions.model_submission_record_runtime(job=job, succeeded=True)
    submission.refresh_from_db()
    return submission


def test_energy_formula_ranks_teams_by_energy_per_inference(challenge, team, make_user):
    assert QUANTITIES["energy_mj"] == "Energy per inference (mJ)"
    formula_validate("2 ** (2 * psnr) / energy_mj", constants={})

    beta = make_team(challenge, "Team Beta", make_user())
    # Alpha is faster but spends more energy per inference; Beta is slower and frugal.
    alpha_sub = measured(challenge, team, psnr=20.0, runtime_ms=1.0, status="running")
    beta_sub = measured(challenge, beta, psnr=20.0, runtime_ms=1.0, status="running")
    ModelSubmission.objects.filter(pk__in=[alpha_sub.pk, beta_sub.pk]).update(fidelity_status="done")
    alpha_sub = _runtime_finished(alpha_sub, mean_ms=5.0, power_w=4.0, energy_mj=20.0)
    beta_sub = _runtime_finished(beta_sub, mean_ms=20.0, power_w=0.25, energy_mj=5.0)
    assert (alpha_sub.energy_mj, alpha_sub.power_w, alpha_sub.runtime_ms) == (20.0, 4.0, 5.0)
    assert (beta_sub.energy_mj, beta_sub.power_w, beta_sub.runtime_ms) == (5.0, 0.25, 20.0)
    complete_for_ranking(team)
    complete_for_ranking(beta)

    # The default formula (runtime) puts the faster team first…
    board = selectors.final_leaderboard(challenge=challenge)
    assert [(s.team.name, s.rank) for s in board.standings] == [("Team Alpha", 1), ("Team Beta", 2)]

    # …a formula over energy puts the frugal one first.
    scores.final_settings_update(challenge=challenge, score_formula="2 ** (2 * psnr) / energy_mj")
    board = selectors.final_leaderboard(challenge=challenge)
    assert [(s.team.name, s.rank) for s in board.standings] == [("Team Beta", 1), ("Team Alpha", 2)]
    beta_sub.refresh_from_db()
    assert beta_sub.score == pytest.approx(2**40 / 5.0)


def test_energy_formula_without_a_power_sensor_says_it_was_not_measured(challenge, team):
    sub = measured(challenge, team, psnr=20.0, runtime_ms=1.0, status="running")
    ModelSubmission.objects.filter(pk=sub.pk).update(fidelity_status="done")
    sub = _runtime_finished(sub, mean_ms=5.0, power_w=None, energy_mj=None)
    scores.final_settings_update(challenge=challenge, score_formula="psnr / energy_mj")
    sub.refresh_from_db()
    assert sub.energy_mj is None and sub.score is None
    assert "Energy per inference (mJ) (energy_mj), which was not measured" in sub.score_error
