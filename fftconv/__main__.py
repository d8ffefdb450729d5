"""``python -m fftconv``: the command line, see :mod:`fftconv.cli`."""

import sys

from fftconv.cli import main

sys.exit(main())
