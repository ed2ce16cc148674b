"""`python manage.py device_token HOST-NAME`: prints the token a device host uses (DEVICE_TOKEN), and
records the host. `--revoke` disables it (its token stops working at once)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from evaluation.models import DeviceHost
from evaluation.tokens import device_host_token


class Command(BaseCommand):
    help = "Print (or revoke) the device token of a device host."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args, name, revoke, **options):
        slug = slugify(name)
        if not slug:
            raise CommandError("Give the host a name of letters, digits and dashes.")
        host, _ = DeviceHost.objects.get_or_create(name=slug)
        if revoke:
            host.enabled = False
            host.save(update_fields=["enabled"])
            self.stdout.write(f"Device host {slug} revoked.")
            return
        if not host.enabled:
            host.enabled = True
            host.save(update_fields=["enabled"])
        self.stdout.write(device_host_token(slug))
