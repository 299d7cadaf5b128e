"""``python -m flowpressure``: the command line."""

from flowpressure.cli import main

main()
