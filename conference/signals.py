"""Signal receivers of `conference`: a confirmed e-mail address links the paper-author rows that
name it to the account (co-authors invited by e-mail see their papers once they sign up)."""

from allauth.account.signals import email_confirmed
from django.dispatch import receiver


@receiver(email_confirmed, dispatch_uid="conference.link_paper_authors")
def link_paper_authors(sender, request, email_address, **kwargs):
    from .services import paper_authors_link_user

    paper_authors_link_user(user=email_address.user, email=email_address.email)
