"""``python -m lincoln.cli``: the ``lincoln`` command."""

import sys

from . import main

sys.exit(main())
