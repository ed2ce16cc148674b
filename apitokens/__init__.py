"""Personal API tokens: named, scoped (read, or read and submit), stored hashed, revocable, throttled."""
