"""Writes of the review process, one module per concern (pretalx-style), as keyword-only
`<entity>_<action>` functions called by views, tasks, the allauth adapter and tests:

- `committee`: invitations (and the memberships they grant), reviewer profiles;
- `conflicts`: detection, a chair's decision, declarations by reviewers and authors;
- `bids`: a reviewer's bid on a paper;
- `assignments`: an in-process assignment run, manual additions and removals (the queued run and
  the commit live in `conference.reviewing.assignment_services`);
- `reviews`: drafts and submitted reviews, reminders to reviewers;
- `discussion`: the reviewers' thread and the chair's meta-review;
- `decisions`: decisions and their release to authors;
- `review_settings`: the edition's settings row;
- `supplementary`: the anonymised copy of supplementary material reviewers get.

Reads are in `conference.reviewing.selectors`; dependencies point from here to there, never back.
"""
