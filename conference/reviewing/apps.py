"""App configuration of `conference.reviewing` (label `reviewing`): registers the reminder in Celery
beat, links accepted invitations to accounts at log-in, seeds demo reviewers."""

from django.apps import AppConfig

REMINDER_EVERY_SECONDS = 3600


class ReviewingConfig(AppConfig):
    name = "conference.reviewing"
    label = "reviewing"
    verbose_name = "Reviewing"

    def ready(self):
        from allauth.account.signals import email_confirmed, user_logged_in, user_signed_up

        from config.celery import app

        app.conf.beat_schedule = {
            **(app.conf.beat_schedule or {}),
            "reviewing-reminders": {
                "task": "reviewing.send_review_reminders",
                "schedule": REMINDER_EVERY_SECONDS,
            },
        }
        user_logged_in.connect(_link_invitations, dispatch_uid="reviewing-link-login")
        user_signed_up.connect(_link_invitations, dispatch_uid="reviewing-link-signup")
        email_confirmed.connect(_link_confirmed, dispatch_uid="reviewing-link-confirmed")

    def seed_demo(self, *, stdout):
        """Demo reviewers with expertise and bids on the live edition (idempotent)."""
        from .seed import seed_demo

        return seed_demo(stdout=stdout)


def _link_invitations(sender, request=None, user=None, **kwargs):
    from .services import invitations_link_user

    if user is not None:
        invitations_link_user(user=user)


def _link_confirmed(sender, request=None, email_address=None, **kwargs):
    from .services import invitations_link_user

    if email_address is not None:
        invitations_link_user(user=email_address.user)
