"""django-allauth customisation: its e-mails go through our outbox (and so through Celery)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from .mail import mail_enqueue_message


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        mail_enqueue_message(self.render_mail(template_prefix, email, ctx))
