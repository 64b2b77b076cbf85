"""``python -m compare.bench``: the same as ``mlp-compare bench``."""

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
