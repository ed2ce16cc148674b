"""App configuration of `challenges.finalphase` (label `finalphase`): connects the receiver of
`evaluation.signals.runtime_job_finished` that records a final-phase model's runtime, declares its
periodic sweep (scheduled by `config.beat`), seeds the demo tracks' final-phase settings, and offers
other apps a challenge's winners (`challenge_winners`, read by the workshop programme)."""

from django.apps import AppConfig


def _on_runtime_job_finished(sender, job, succeeded, **kwargs):
    # Imported here: this module is loaded before the app registry has the models the services use.
    from .services.submissions import model_submission_record_runtime

    model_submission_record_runtime(job=job, succeeded=succeeded)


class FinalPhaseConfig(AppConfig):
    name = "challenges.finalphase"
    label = "finalphase"
    verbose_name = "Challenges: final phase"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        ("finalphase-recover-stale-submissions", "finalphase.recover_stale_submissions", "BEAT_SWEEP_EVERY_S")
    ]

    # Imports inside the methods: this module is loaded before the app registry has the models.
    def seed_demo(self, *, stdout):
        from .seed import seed_demo

        return seed_demo(stdout=stdout)

    def challenge_winners(self, *, challenge, user, limit: int):
        """The hook `conference.proceedings` looks up by name: see `winners.challenge_winners`."""
        from .winners import challenge_winners

        return challenge_winners(challenge=challenge, user=user, limit=limit)

    def ready(self):
        from evaluation.signals import runtime_job_finished

        runtime_job_finished.connect(_on_runtime_job_finished, dispatch_uid="finalphase.runtime_job_finished")
