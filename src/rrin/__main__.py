"""``python -m rrin`` is the ``rrin`` command."""

import sys

from .cli import main

sys.exit(main())
