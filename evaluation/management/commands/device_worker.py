"""`python manage.py device_worker [--device local:host-cpu …]`: runs a device host (see
evaluation.device_worker). Only the broker URL, the site URL and a device token are used; defaults come
from the site's settings (CELERY_BROKER_URL, SITE_URL) and, when DEVICE_TOKEN is not set, a token for
this machine signed with the site's key (the embedded `make run` case, where both share var/)."""

import socket

from django.conf import settings
from django.core.management.base import BaseCommand

from evaluation.tokens import device_host_token


class Command(BaseCommand):
    help = "Serve this host's devices: register, heartbeat, run jobs from the device.<slug> queues."

    def add_arguments(self, parser):
        parser.add_argument("--device", action="append", dest="devices", metavar="TRANSPORT:TARGET")
        parser.add_argument("--site-url", default="")
        parser.add_argument("--token", default="")
        parser.add_argument("--broker-url", default="")
        parser.add_argument("--heartbeat", type=float, default=None)
        parser.add_argument(
            "--host-name", default="", help="Name of this host when the token is derived here."
        )

    def handle(self, *args, **options):
        import os

        from evaluation import device_worker

        token = (
            options["token"]
            or os.environ.get("DEVICE_TOKEN")
            or device_host_token(options["host_name"] or f"local-{socket.gethostname()}"[:100])
        )
        argv = [
            "--site-url",
            options["site_url"] or os.environ.get("SITE_URL") or settings.SITE_URL,
            "--token",
            token,
            "--broker-url",
            options["broker_url"] or settings.CELERY_BROKER_URL,
        ]
        if options["heartbeat"]:
            argv += ["--heartbeat", str(options["heartbeat"])]
        for spec in options["devices"] or ["local:host-cpu"]:
            argv += ["--device", spec]
        raise SystemExit(device_worker.main(argv))
