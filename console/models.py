"""The console's own rows: role invitations (co-chair, challenge organiser, device operator) and the
log of changes to an edition's important dates."""

import secrets

from django.conf import settings
from django.db import models


def new_token() -> str:
    return secrets.token_urlsafe(24)


class RoleInvitation(models.Model):
    """A single-use invitation to a role, bound to the invited address.

    State machine: pending → accepted (once, by a signed-in account with a verified copy of `email`;
    the role is granted at once) | declined (by anyone with the link) | revoked (by a chair). The same
    semantics as the committee's `reviewing.Invitation`.
    """

    class Role(models.TextChoices):
        CO_CHAIR = "co_chair", "Co-chair"
        CHALLENGE_ORGANISER = "challenge_organiser", "Challenge organiser"
        DEVICE_OPERATOR = "device_operator", "Device operator"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    workshop = models.ForeignKey(
        "conference.Workshop", on_delete=models.CASCADE, related_name="role_invitations"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_invitations",
        help_text="The track a challenge organiser is invited to.",
    )
    device_host = models.ForeignKey(
        "evaluation.DeviceHost",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_invitations",
        help_text="The device host an operator is invited to run.",
    )
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="co_chair", challenge__isnull=True, device_host__isnull=True)
                | models.Q(role="challenge_organiser", challenge__isnull=False, device_host__isnull=True)
                | models.Q(role="device_operator", challenge__isnull=True, device_host__isnull=False),
                name="role_invitation_target_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.role_title} ({self.get_state_display()})"

    @property
    def role_title(self) -> str:
        """What the invitee becomes, e.g. "Challenge organiser of Image denoising"."""
        if self.role == self.Role.CHALLENGE_ORGANISER and self.challenge_id:
            return f"Challenge organiser of {self.challenge.title}"
        if self.role == self.Role.DEVICE_OPERATOR and self.device_host_id:
            return f"Device operator of host {self.device_host.name}"
        return f"Co-chair of {self.workshop.short_name}"


class DateChangeLog(models.Model):
    """One change of an important date that had already been set: who, which date, old and new."""

    workshop = models.ForeignKey("conference.Workshop", on_delete=models.CASCADE, related_name="date_changes")
    important_date = models.ForeignKey(
        "conference.ImportantDate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200, help_text="The date's title when it changed.")
    old_at = models.DateTimeField()
    new_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the date was removed.")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title}: {self.old_at:%Y-%m-%d %H:%M} → {self.new_at or 'removed'}"
