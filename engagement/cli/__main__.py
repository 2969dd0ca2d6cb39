"""``python -m engagement.cli``: the same as the ``engagement`` command."""

from engagement.cli import main

main()
