"""Signals other apps subscribe to without `evaluation` importing them.

`runtime_job_finished` is sent once per job, after the transaction that moved it to done or failed has
committed (a redelivered report never sends it again). Arguments: `sender=RuntimeJob`, `job` (the
RuntimeJob, results filled in), `succeeded` (bool). `challenges` connects a receiver that filters on
`job.purpose` to score final-phase submissions.
"""

import django.dispatch

runtime_job_finished = django.dispatch.Signal()
