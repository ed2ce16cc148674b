"""Workshop editions, their topics, organisers and dates; people (profiles, roles); the mail outbox."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/Los_Angeles.")


class Workshop(models.Model):
    """One edition of a workshop (MAI 2021, MAI 2022…), reached under its own URL prefix."""

    slug = models.SlugField(unique=True, help_text="URL prefix, e.g. mai-2021.")
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40)
    host_conference = models.CharField(max_length=100, help_text="e.g. CVPR 2021")
    host_conference_url = models.URLField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    description = models.TextField(blank=True)
    # Format rules
    page_limit = models.PositiveSmallIntegerField(default=8)
    references_excluded = models.BooleanField(default=True, help_text="References do not count.")
    double_column = models.BooleanField(default=True)
    paper_size = models.CharField(max_length=20, default="US Letter")
    template_url = models.URLField(blank=True)
    language = models.CharField(max_length=40, default="English")
    # Policies
    double_blind = models.BooleanField(default=True)
    dual_submission_with_host_allowed = models.BooleanField(
        default=True, help_text="Dual submission is allowed only with the host conference."
    )
    dual_submission_policy = models.TextField(blank=True)
    submission_grace_minutes = models.PositiveIntegerField(
        default=0, help_text="Grace period after every paper deadline, enforced by the server."
    )
    is_public = models.BooleanField(default=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.short_name

    def get_absolute_url(self) -> str:
        return reverse("conference:workshop", kwargs={"workshop": self.slug})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Topic(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "name"], name="unique_topic_name")]

    def __str__(self) -> str:
        return self.name


class Organiser(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="organisers")
    name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=300)
    email = models.EmailField(blank=True)
    homepage = models.URLField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.affiliation})"


class ImportantDate(models.Model):
    """A dated event of the workshop's paper track. Challenge milestones come from `challenges`."""

    class Kind(models.TextChoices):
        SUBMISSION_OPEN = "submission_open", "Paper submission server online"
        PAPER_DEADLINE = "paper_deadline", "Paper submission deadline"
        CHALLENGE_PAPER_DEADLINE = "challenge_paper_deadline", "Challenge paper submission deadline"
        REVIEW_DEADLINE = "review_deadline", "Review deadline"
        NOTIFICATION = "notification", "Paper decision notification"
        CAMERA_READY = "camera_ready", "Camera-ready deadline"
        WORKSHOP = "workshop", "Workshop day"
        OTHER = "other", "Other"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="dates")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    label = models.CharField(max_length=200, blank=True, help_text="Defaults to the kind's name.")
    at = models.DateTimeField(help_text="Entered in the workshop's time zone.")

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.title} — {self.at:%Y-%m-%d %H:%M %Z}"

    @property
    def title(self) -> str:
        return self.label or self.get_kind_display()


class Membership(models.Model):
    """A user's role in one edition."""

    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        AREA_CHAIR = "area_chair", "Area chair"
        REVIEWER = "reviewer", "Reviewer"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "user", "role"], name="unique_membership_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.workshop}"


domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$", "Enter a domain such as ethz.ch (no @, no http://)."
)


class Profile(models.Model):
    """What a person tells us about themselves; all of it feeds conflict-of-interest detection."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    full_name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=100, blank=True)
    other_emails = models.JSONField(default=list, blank=True, help_text="Other addresses, confirmed or not.")
    institution_domains = models.JSONField(default=list, blank=True, help_text="e.g. ethz.ch, vision.ee.ethz.ch")

    def __str__(self) -> str:
        return self.full_name or self.user.get_username()

    def all_emails(self) -> list[str]:
        """Every address the person listed, confirmed or not, lower-cased and unique."""
        addresses = [self.user.email, *self.other_emails]
        addresses += [e.email for e in self.user.emailaddress_set.all()]
        seen: dict[str, None] = {}
        for address in addresses:
            if address:
                seen.setdefault(address.strip().lower(), None)
        return list(seen)

    def all_domains(self) -> list[str]:
        domains = {email.rsplit("@", 1)[-1] for email in self.all_emails() if "@" in email}
        domains |= {d.strip().lower() for d in self.institution_domains if d.strip()}
        return sorted(domains)


class OutgoingMail(models.Model):
    """The outbox: a row per e-mail, sent by a Celery task; the state makes a redelivered task a no-op."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.JSONField(help_text="List of recipient addresses.")
    subject = models.CharField(max_length=500)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    from_email = models.CharField(max_length=300, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.state})"
