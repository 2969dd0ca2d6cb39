"""``python -m workers``: a worker configured from the settings (see :func:`workers.run.main`)."""

import sys

from workers.run import main

main(sys.argv[1:])
