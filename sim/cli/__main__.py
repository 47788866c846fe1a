"""``python -m sim.cli``: the ``trialsim`` command."""

import sys

from . import main

sys.exit(main())
