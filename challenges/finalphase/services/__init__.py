"""Writes of the final phase, one module per concern, as keyword-only `<entity>_<action>` functions that
views, the API, admin and tasks call (reads are in `challenges.finalphase.selectors`):

- `base`: `FinalPhaseRefused` (a refused upload or change) and reading an upload within its limit;
- `scores`: the track's final-phase settings, its score formula, the results-release instant, scores;
- `submissions`: model submissions and their two measurements (fidelity on the hidden test data,
  runtime on the target device), concluded into a score;
- `factsheets`: fact sheets and code, accepted until the fact-sheet deadline;
- `recovery`: the sweep that gives every unfinished measurement an owner and a deadline.

A model submission's life (a state machine, each step inside `transaction.atomic()`):

    model_submission_create ── contract checked at upload; stored; two outbox rows commit with it:
      ├─ finalphase.run_fidelity (queue `scoring`): hidden test inputs → the model (sandboxed) →
      │    the track's metrics against the hidden ground truth   → fidelity_status done | failed
      └─ finalphase.start_runtime (queue `default`): an `evaluation` runtime job on the track's target
           device; `evaluation.signals.runtime_job_finished` → model_submission_record_runtime
                                                             → runtime_status done | failed
    model_submission_conclude: both done → score by the formula → status done; either failed → failed
    (a failed submission does not count against the team's limit).

Changing the formula or its constants (`scores.final_settings_update`) recomputes every score
(`scores.scores_recompute`)."""
