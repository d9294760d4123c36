"""``python -m flowlens``: the same as the ``flowlens`` command."""

import sys

from flowlens.cli import main

sys.exit(main())
