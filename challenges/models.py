"""Challenges (tracks) of a workshop edition and their milestone timeline."""

from django.db import models
from django.urls import reverse


class Challenge(models.Model):
    """One track of a workshop edition, e.g. "Learned Smartphone ISP"."""

    workshop = models.ForeignKey("conference.Workshop", on_delete=models.CASCADE, related_name="challenges")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    target_platform = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "slug"], name="unique_challenge_slug")]

    def __str__(self) -> str:
        return f"{self.workshop.short_name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("challenges:detail", kwargs={"workshop": self.workshop.slug, "challenge": self.slug})


class Milestone(models.Model):
    """A dated step of a challenge's timeline; everything that opens or closes derives from these."""

    class Kind(models.TextChoices):
        WEBSITE_ONLINE = "website_online", "Website online"
        TRAIN_DATA = "train_data", "Train/validation data released"
        VALIDATION_SERVER = "validation_server", "Validation server online"
        TEST_DATA = "test_data", "Final test data released"
        FINAL_DEADLINE = "final_deadline", "Final models/results submission deadline"
        FACTSHEET_DEADLINE = "factsheet_deadline", "Fact sheets/codes submission deadline"
        PRELIMINARY_RESULTS = "preliminary_results", "Preliminary test results released to participants"
        CHALLENGE_PAPERS = "challenge_papers", "Challenge paper submission deadline"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    at = models.DateTimeField(help_text="Entered in the workshop's time zone.")

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["challenge", "kind"], name="unique_milestone_kind")]

    def __str__(self) -> str:
        return f"{self.challenge.title}: {self.get_kind_display()}"
