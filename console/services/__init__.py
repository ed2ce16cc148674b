"""Writes of the console, one module per concern: `editions` (new edition, its settings, topics,
organisers), `cloning`, `dates` (the important dates editor and its log), `roles` (invitations to
co-chair, organise a track, operate a device host), `outbox` (retrying failed mail)."""
