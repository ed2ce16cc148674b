"""Permission predicates of evaluation (django-rules): who may see a runtime job and its model, and who
operates a device (pauses, drains and resumes it)."""

import rules


@rules.predicate
def is_job_owner(user, job) -> bool:
    return bool(job is not None and user and user.is_authenticated and job.owner_id == user.pk)


@rules.predicate
def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


@rules.predicate
def is_device_operator(user, device) -> bool:
    """The user operates the host that drives this device (`DeviceHost.operators`)."""
    if device is None or not (user and user.is_authenticated) or device.device_host_id is None:
        return False
    return device.device_host.operators.filter(pk=user.pk).exists()


@rules.predicate
def operates_any_device(user) -> bool:
    """The user operates at least one device host (the lab page then shows the operator's buttons)."""
    return bool(user and user.is_authenticated and user.operated_device_hosts.exists())


@rules.predicate
def operates_job_device(user, job) -> bool:
    """The user operates the host that drives the device the job ran (or waits) on."""
    return bool(job is not None and is_device_operator(user, job.device))


rules.add_perm("evaluation.view_runtimejob", is_job_owner | is_staff)
# The text of a job's failure (tensor names, shapes of another team's model): its owner, the operators
# of its device, superusers. The device lab shows everyone else only that the last job failed.
rules.add_perm("evaluation.view_job_error", is_job_owner | operates_job_device | rules.is_superuser)
rules.add_perm("evaluation.run_runtime_check", rules.is_authenticated)
rules.add_perm("evaluation.operate_device", is_device_operator | rules.is_superuser)
rules.add_perm("evaluation.view_device_lab", rules.is_authenticated)
