"""The dispatch outbox: one row per Celery message the site means to send (see `common.dispatch`)."""

from django.db import models


class Dispatch(models.Model):
    """A task to send to the broker. The row is written in the same transaction as the work it stands
    for (a runtime job, a submission), so a broker outage delays the work and loses none: `sent_at` stays
    empty until a dispatcher has handed the message to the broker."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=200, default="default")
    ref = models.CharField(
        max_length=200, blank=True, db_index=True, help_text="What the message is for: 'app_label.model:pk'."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["sent_at", "id"], name="common_dispatch_pending")]

    def __str__(self):
        state = f"sent {self.sent_at:%Y-%m-%d %H:%M:%S}" if self.sent_at else "pending"
        return f"{self.task} → {self.queue} ({self.ref or '-'}, {state})"
