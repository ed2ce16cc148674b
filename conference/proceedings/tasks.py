"""Celery tasks of the proceedings app: thin callers of the services."""

from celery import shared_task

from .services import export_build, exports_sweep


@shared_task(name="proceedings.build_export", acks_late=True, reject_on_worker_lost=True)
def build_export(export_id: int) -> str:
    """Builds one proceedings zip (queued on `scoring` through the outbox)."""
    export = export_build(export_id=export_id)
    return export.state if export else "missing"


@shared_task(name="proceedings.sweep_exports")
def sweep_exports() -> int:
    """Beat's sweep: exports nobody advanced are failed with a reason."""
    return exports_sweep()
