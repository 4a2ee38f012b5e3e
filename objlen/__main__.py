"""``python -m objlen``."""

import sys

from objlen.cli.main import main

sys.exit(main())
