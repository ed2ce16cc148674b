"""Cross-cutting building blocks with no domain of their own (the sandbox for untrusted input)."""
