"""``python -m rrin``: the ``rrin`` command (also what ``torchrun -m rrin train …`` runs)."""

import sys

from .cli import main

sys.exit(main())
