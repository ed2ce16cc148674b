"""The programme (sessions and their slots: paper talks, invited talks, challenge sessions, breaks),
invited talks, industry partners, the chair's publication switches and the proceedings exports."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from conference.models import Paper, Workshop, private_storage


def partner_logo_path(instance: "Partner", filename: str) -> str:
    return f"proceedings/{instance.workshop_id}/partners/{instance.pk or 'new'}-{instance.logo_token}.png"


def speaker_photo_path(instance: "InvitedTalk", filename: str) -> str:
    return f"proceedings/{instance.workshop_id}/talks/{instance.pk or 'new'}-{instance.photo_token}.png"


def export_zip_path(instance: "ProceedingsExport", filename: str) -> str:
    return f"proceedings/{instance.workshop_id}/exports/{instance.pk}/{filename}"


class ProceedingsSettings(models.Model):
    """The chair's switches for one edition: whether the accepted papers' PDFs are public, the
    preface of the front matter."""

    workshop = models.OneToOneField(Workshop, on_delete=models.CASCADE, related_name="proceedings_settings")
    pdfs_published = models.BooleanField(
        default=False,
        help_text="The accepted papers' camera-ready PDFs are public on the accepted-papers page.",
    )
    preface = models.TextField(blank=True, help_text="The preface of the proceedings' front matter.")
    month = models.CharField(max_length=20, default="June", help_text="The BibTeX month of the proceedings.")

    class Meta:
        verbose_name_plural = "proceedings settings"

    def __str__(self) -> str:
        return f"Proceedings settings of {self.workshop}"


class InvitedTalk(models.Model):
    """A keynote: speaker, affiliation, title, abstract, short bio, photo (checked and resized)."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="invited_talks")
    speaker = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=300)
    abstract = models.TextField(blank=True)
    bio = models.TextField(blank=True, help_text="A short biography of the speaker.")
    photo = models.FileField(
        storage=private_storage, upload_to=speaker_photo_path, max_length=300, blank=True
    )
    photo_token = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        ordering = ["workshop", "speaker"]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.title}"


class Partner(models.Model):
    """An industry partner shown with its logo (uploaded, checked and resized to PNG in the sandbox)."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    logo = models.FileField(storage=private_storage, upload_to=partner_logo_path, max_length=300)
    logo_token = models.CharField(max_length=16, editable=False)
    logo_width = models.PositiveIntegerField(default=0)
    logo_height = models.PositiveIntegerField(default=0)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["workshop", "order", "name"]

    def __str__(self) -> str:
        return self.name


class ProgrammeSession(models.Model):
    """A block of the workshop day (e.g. "Session 1: Image enhancement") in one room."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="programme_sessions")
    title = models.CharField(max_length=200)
    room = models.CharField(max_length=100, blank=True)
    chair_name = models.CharField(max_length=200, blank=True, help_text="Who chairs the session.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["workshop", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Slot(models.Model):
    """One item of a session. Two slots in the same room never overlap (`services.slot_save`)."""

    class Kind(models.TextChoices):
        PAPER = "paper", "Paper talk"
        INVITED = "invited", "Invited talk"
        CHALLENGE = "challenge", "Challenge session"
        BREAK = "break", "Break"

    session = models.ForeignKey(ProgrammeSession, on_delete=models.CASCADE, related_name="slots")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.CharField(max_length=100, blank=True, help_text="Defaults to the session's room.")
    title = models.CharField(max_length=300, blank=True, help_text="For breaks and challenge sessions.")
    paper = models.ForeignKey(
        Paper, on_delete=models.PROTECT, null=True, blank=True, related_name="programme_slots"
    )
    talk = models.ForeignKey(
        InvitedTalk, on_delete=models.PROTECT, null=True, blank=True, related_name="slots"
    )
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programme_slots",
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.starts_at:%Y-%m-%d %H:%M}"


class ProceedingsExport(models.Model):
    """One build of the proceedings zip, made by the task `proceedings.build_export`.

    States: queued (row and its outbox message committed together) → running (a worker took it;
    `heartbeat_at` moves with each stage) → done (`archive` stored) or failed (`error` says why). A
    queued or running export nobody advances for `PROCEEDINGS_EXPORT_STALE_S` is failed by the sweep
    `proceedings.sweep_exports` and by every poll of its page, so none stays unfinished."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="proceedings_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    done_steps = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    archive = models.FileField(storage=private_storage, upload_to=export_zip_path, max_length=300, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Proceedings export {self.pk} of {self.workshop} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("proceedings:export", kwargs={"workshop": self.workshop.slug, "pk": self.pk})

    @property
    def percent(self) -> int:
        return int(100 * self.done_steps / self.total_steps) if self.total_steps else 0
