"""``python -m nautilus_core.cli``: the ``nautilus`` command without the console script."""

import sys

from nautilus_core.cli import main

sys.exit(main())
