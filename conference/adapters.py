"""django-allauth customisation, all in the adapter: its e-mails go through our outbox (and so through
Celery), and a committee invitation that a visitor started to accept without an account completes
when that person's account logs in or confirms the invited address, landing in the reviewing area —
logged in when the address is confirmed in the browser session that signed up (the condition allauth
itself uses; `ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION` stays off for everyone else).

The invitation is bound to its address: `reviewing.domain.committee.invitation_accept_if_bound` accepts only
for an account with a verified copy of it. The token travels in the visitor's own session
(`INVITATION_SESSION_KEY`), set when they pressed "Accept" on the invitation page.
"""

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse

from .mail import mail_enqueue_message
from .reviewing.domain.committee import invitation_accept_if_bound
from .reviewing.selectors import invitation_pending_for_email

INVITATION_SESSION_KEY = "reviewing_invitation"


def _complete_invitation(request, user) -> str | None:
    """Accepts the invitation kept in the session for this user, if it is theirs; returns the URL of
    its reviewing area, or None."""
    session = getattr(request, "session", None)
    token = session.get(INVITATION_SESSION_KEY) if session is not None else None
    if not token or user is None:
        return None
    invitation = invitation_accept_if_bound(token=token, user=user)
    if invitation is None:
        return None
    session.pop(INVITATION_SESSION_KEY, None)
    messages.success(
        request,
        f"Welcome to the {invitation.workshop.short_name} committee "
        f"({invitation.get_role_display().lower()}): your reviewing area is below.",
    )
    return reverse("reviewing:home", kwargs={"workshop": invitation.workshop.slug})


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        mail_enqueue_message(self.render_mail(template_prefix, email, ctx))

    def confirm_email(self, request, email_address) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            landing = _complete_invitation(request, email_address.user)
            if landing:
                request._invitation_landing = landing
                self._login_if_signing_up_here(request, email_address)
        return confirmed

    def _login_if_signing_up_here(self, request, email_address) -> None:
        """An invitee who just accepted lands in the reviewing area logged in, but only when this
        browser session is the one that signed up (allauth's own condition for logging in on
        confirmation: its pending e-mail verification stage names this user). A confirmation link
        opened anywhere else logs no one in (`ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION` stays off)."""
        from allauth.account.stages import EmailVerificationStage, LoginStageController

        if request.user.is_authenticated:
            return
        stage = LoginStageController.enter(request, EmailVerificationStage.key)
        if (
            stage is not None
            and stage.login.user is not None
            and stage.login.user.pk == email_address.user_id
        ):
            self.login(request, email_address.user)

    def post_login(self, request, user, *, redirect_url=None, **kwargs):
        landing = _complete_invitation(request, user) or getattr(request, "_invitation_landing", None)
        return super().post_login(request, user, redirect_url=landing or redirect_url, **kwargs)

    def get_email_verification_redirect_url(self, email_address) -> str:
        """Confirmed in another browser (so not logged in here): the invitee logs in and lands in the
        reviewing area rather than on the site's home."""
        landing = getattr(self.request, "_invitation_landing", None)
        if landing is None and not self.request.user.is_authenticated:
            pending = invitation_pending_for_email(email=email_address.email)
            if pending is not None:
                landing = reverse(
                    "reviewing:invitation",
                    kwargs={"workshop": pending.workshop.slug, "token": pending.token},
                )
        if landing and not self.request.user.is_authenticated:
            return reverse("account_login") + "?" + urlencode({"next": landing})
        return landing or super().get_email_verification_redirect_url(email_address)

    # Sign-in limits count failures only. allauth consumes a "login_failed" unit before it checks the
    # password and gives it back on success, so more simultaneous *correct* sign-ins from one address
    # than the per-address limit (a lab or classroom behind one NAT) were refused. Here the limit is
    # only checked before the password (a dry run) and a unit is consumed when the password is wrong.
    def pre_authenticate(self, request, **credentials) -> None:
        key = self._get_login_attempts_cache_key(request, **credentials)
        self._login_failed_rl_usage = None
        if not ratelimit.consume(request, action="login_failed", key=key, dry_run=True):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials) -> None:
        key = self._get_login_attempts_cache_key(request, **credentials)
        ratelimit.consume(request, action="login_failed", key=key)
