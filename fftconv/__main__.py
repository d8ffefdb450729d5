"""``python -m fftconv``: the command line, see :mod:`fftconv.cli`."""

import sys

from .cli import main

sys.exit(main())
