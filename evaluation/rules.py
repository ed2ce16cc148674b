"""Permission predicates of evaluation (django-rules): who may see a runtime job and its model."""

import rules


@rules.predicate
def is_job_owner(user, job) -> bool:
    return bool(job is not None and user and user.is_authenticated and job.owner_id == user.pk)


@rules.predicate
def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


rules.add_perm("evaluation.view_runtimejob", is_job_owner | is_staff)
rules.add_perm("evaluation.run_runtime_check", rules.is_authenticated)
