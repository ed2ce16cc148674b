"""The workshop side: editions, their public pages, people (profiles, roles), mail, papers."""
