"""Writes of the paper side, one module per concern; views, admin, the API and Celery tasks call them
through this package (`from conference import services`):

- `submission`: submit, edit, withdraw (`paper_create`, `paper_update`, `paper_withdraw`);
- `versions`: every PDF upload kept as a version, the sandboxed PDF check with its review copy and
  verdict (`paper_version_check`);
- `authors`: the ordered author list, co-author invitations, an account linked to the author rows of
  an address it confirms (`paper_authors_link_user`);
- `deadlines`: the window enforced to the second (`SubmissionClosed`), a chair's per-paper extension
  (`paper_extend_deadline`);
- `notify`: the change log and the authors' e-mails (bodies in templates/conference/mail/);
- `profiles`: a person's profile.

Every function takes keyword arguments; `now` is the instant the server decided on (the view passes
the time the request arrived), so the deadline is enforced to the second. Reads — the submission
window, whether a paper is editable, what a PDF check looks for — are in `conference.selectors`.
"""

from .authors import AuthorData, paper_authors_link_user
from .deadlines import SubmissionClosed, paper_extend_deadline
from .profiles import profile_get_or_create, profile_save_signup, profile_update
from .submission import PaperConflict, paper_create, paper_update, paper_withdraw
from .versions import paper_version_check, paper_versions_recheck_stale

__all__ = [
    "AuthorData",
    "PaperConflict",
    "SubmissionClosed",
    "paper_authors_link_user",
    "paper_create",
    "paper_extend_deadline",
    "paper_update",
    "paper_version_check",
    "paper_versions_recheck_stale",
    "paper_withdraw",
    "profile_get_or_create",
    "profile_save_signup",
    "profile_update",
]
