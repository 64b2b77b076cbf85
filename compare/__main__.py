"""``python -m compare``: the same as the ``mlp-compare`` command."""

import sys

from .cli import main

sys.exit(main())
