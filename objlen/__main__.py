"""``python -m objlen``."""

import sys

from objlen.cli import main

sys.exit(main())
