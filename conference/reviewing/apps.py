"""App configuration of `conference.reviewing` (label `reviewing`): declares the reminder as a periodic
task (scheduled by `config.beat`), links accepted invitations to accounts at log-in, seeds demo
reviewers."""

from django.apps import AppConfig


class ReviewingConfig(AppConfig):
    name = "conference.reviewing"
    label = "reviewing"
    verbose_name = "Reviewing"
    # (beat entry, task, setting holding the interval in seconds); see config.beat.
    periodic_tasks = [
        ("reviewing-reminders", "reviewing.send_review_reminders", "BEAT_REVIEW_REMINDERS_EVERY_S"),
        ("reviewing-sweep-assignment-runs", "reviewing.sweep_assignment_runs", "BEAT_SWEEP_EVERY_S"),
    ]

    def ready(self):
        # Imported here, not at the top: allauth's models need the app registry, ready only now.
        from allauth.account.signals import email_confirmed, user_logged_in, user_signed_up

        user_logged_in.connect(_link_invitations, dispatch_uid="reviewing-link-login")
        user_signed_up.connect(_link_invitations, dispatch_uid="reviewing-link-signup")
        email_confirmed.connect(_link_confirmed, dispatch_uid="reviewing-link-confirmed")

    def seed_demo(self, *, stdout):
        """Demo reviewers with expertise and bids on the live edition (idempotent)."""
        from .seed import seed_demo  # models: not importable before the app registry is ready

        return seed_demo(stdout=stdout)


def _link_invitations(sender, request=None, user=None, **kwargs):
    from .domain.committee import invitations_link_user  # models: needs the ready app registry

    if user is not None:
        invitations_link_user(user=user)


def _link_confirmed(sender, request=None, email_address=None, **kwargs):
    from .domain.committee import invitations_link_user  # models: needs the ready app registry

    if email_address is not None:
        invitations_link_user(user=email_address.user)
