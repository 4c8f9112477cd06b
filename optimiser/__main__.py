"""``python -m optimiser``: the same command line as ``optimiser``."""

import sys

from optimiser.cli import main

sys.exit(main())
