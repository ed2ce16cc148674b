"""Camera-ready rows: per edition the licence the chair chose (`CameraReadySettings`), per accepted
paper its task (`CameraReady`: extension, confirmed final metadata, reminders sent), every uploaded
final PDF (`FinalVersion`, kept forever) and the signed agreement (`CopyrightAgreement`, one per
paper, immutable once signed).

The confirmed metadata lives here, so the submission's own title, abstract, authors and change log
stay as they were when the paper was reviewed."""

from django.conf import settings
from django.db import models

from conference.models import Paper, Workshop, private_storage


class Licence(models.TextChoices):
    IEEE_COPYRIGHT = "ieee", "IEEE copyright"
    CC_BY_4 = "cc-by-4.0", "CC BY 4.0"


class CameraReadySettings(models.Model):
    """The chair's camera-ready choices for one edition: the licence authors sign, and its exact text
    (a new text gets a new version id; signed agreements keep the text they agreed to)."""

    workshop = models.OneToOneField(Workshop, on_delete=models.CASCADE, related_name="camera_ready_settings")
    licence = models.CharField(max_length=20, choices=Licence.choices, default=Licence.IEEE_COPYRIGHT)
    agreement_text = models.TextField(
        blank=True, help_text="The text authors agree to; empty: the standard text of the licence."
    )
    agreement_version = models.CharField(
        max_length=40, blank=True, help_text="Version id of the text; empty: derived from the text."
    )

    class Meta:
        verbose_name = "camera-ready settings"
        verbose_name_plural = "camera-ready settings"

    def __str__(self) -> str:
        return f"{self.workshop.short_name}: {self.get_licence_display()}"


class CameraReady(models.Model):
    """The camera-ready task of one accepted paper.

    Created when an author or the chair first opens it (or the reminder sweep reaches the paper).
    - `deadline_extended_until`: a chair's per-paper extension of the edition's camera-ready deadline;
    - the final metadata: empty until an author confirms it (`metadata_confirmed_at`); until then the
      submission's title, abstract and authors are the paper's metadata;
    - `reminded_week_at` / `reminded_day_at`: when each deadline reminder was queued (once per paper).
    """

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="camera_ready")
    deadline_extended_until = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True)
    abstract = models.TextField(max_length=5000, blank=True)
    authors = models.JSONField(
        default=list, blank=True, help_text="Ordered list of {name, affiliation, email}."
    )
    metadata_confirmed_at = models.DateTimeField(null=True, blank=True)
    metadata_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminded_week_at = models.DateTimeField(null=True, blank=True)
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    last_chair_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paper"]

    def __str__(self) -> str:
        return f"Camera-ready of paper #{self.paper.number}"


def final_pdf_path(instance: "FinalVersion", filename: str) -> str:
    # Only ids in the path; the author's own file name is kept in `original_name`.
    paper = instance.camera_ready.paper
    return f"camera-ready/{paper.workshop_id}/{paper.pk}/v{instance.number}/final.pdf"


def receipt_path(instance: "CopyrightAgreement", filename: str) -> str:
    # One file per agreement: a voided signature keeps its receipt beside the new one.
    return (
        f"camera-ready/{instance.paper.workshop_id}/{instance.paper_id}/agreement-{instance.pk}-receipt.pdf"
    )


class FinalVersion(models.Model):
    """One uploaded final PDF. State: pending (checking on the scoring queue) → passed / warnings /
    failed. The newest passed (or warnings) version is the paper's final PDF."""

    class CheckState(models.TextChoices):
        PENDING = "pending", "Checking"
        PASSED = "passed", "Passed"
        WARNINGS = "warnings", "Passed with warnings"
        FAILED = "failed", "Refused"

    camera_ready = models.ForeignKey(CameraReady, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    pdf = models.FileField(storage=private_storage, upload_to=final_pdf_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    check_state = models.CharField(max_length=20, choices=CheckState.choices, default=CheckState.PENDING)
    check_report = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["camera_ready", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["camera_ready", "number"], name="unique_final_version_number"),
        ]

    def __str__(self) -> str:
        return f"Final PDF v{self.number} of paper #{self.camera_ready.paper.number}"

    @property
    def is_usable(self) -> bool:
        return self.check_state in (self.CheckState.PASSED, self.CheckState.WARNINGS)


class CopyrightAgreement(models.Model):
    """The copyright transfer or licence one author signed for a paper: who, on whose behalf, when,
    and the exact text with its version id. At most one standing per paper (a constraint); never edited.
    A chair may void a signature given by mistake (who, when, why kept); the authors then sign again."""

    class OnBehalfOf(models.TextChoices):
        AUTHORS = "authors", "All the authors"
        EMPLOYER = "employer", "My employer (work made for hire)"

    paper = models.ForeignKey(Paper, on_delete=models.PROTECT, related_name="copyright_agreements")
    licence = models.CharField(max_length=20, choices=Licence.choices)
    text = models.TextField()
    text_version = models.CharField(max_length=40)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    on_behalf_of = models.CharField(max_length=20, choices=OnBehalfOf.choices)
    employer = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField()
    receipt = models.FileField(storage=private_storage, upload_to=receipt_path, max_length=300, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["paper", "-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper"],
                condition=models.Q(voided_at__isnull=True),
                name="one_standing_agreement_per_paper",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_licence_display()} for paper #{self.paper.number} by {self.signer_name}"
