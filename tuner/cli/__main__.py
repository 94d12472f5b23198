"""`python -m tuner.cli` runs the `tuner` command."""

from tuner.cli import main

main()
