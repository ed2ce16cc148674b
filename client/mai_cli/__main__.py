"""`python -m mai_cli` runs the `mai` command."""

from .cli import main

main()
