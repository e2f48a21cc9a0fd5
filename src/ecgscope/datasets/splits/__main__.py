"""``python -m ecgscope.datasets.splits generate --root DIR``: rebuild the shipped splits."""

import sys

from .generate import main

sys.exit(main())
