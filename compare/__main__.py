"""``python -m compare``: the same as the ``mlp-compare`` command."""

from .cli import main
from .exits import exit_now

exit_now(main())
