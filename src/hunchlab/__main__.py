"""``python -m hunchlab`` is ``hunch``."""

from hunchlab.cli import main

main()
