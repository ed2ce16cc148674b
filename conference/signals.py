"""Signal receivers of `conference`: a confirmed e-mail address links the paper-author rows that
name it to the account (co-authors invited by e-mail see their papers once they sign up); after every
`migrate`, the Sites framework's site takes its domain and name from `SITE_URL` (allauth's e-mails say
"Hello from <domain>", never Django's default "example.com")."""

from urllib.parse import urlsplit

from allauth.account.signals import email_confirmed
from django.conf import settings
from django.contrib.sites.models import Site
from django.dispatch import receiver

from .services import paper_authors_link_user


@receiver(email_confirmed, dispatch_uid="conference.link_paper_authors")
def link_paper_authors(sender, request, email_address, **kwargs):
    paper_authors_link_user(user=email_address.user, email=email_address.email)


def site_sync_from_settings(sender, using="default", **kwargs):
    """Connected in `ConferenceConfig.ready()` for this app's post_migrate (after the sites app made
    its default site)."""
    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain[:100], "name": "Mobile AI Workshop"}
    )
