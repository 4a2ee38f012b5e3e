"""``python -m objlen``.

``measure`` runs without importing the other commands (and their boto3,
Streamlit or endpoint server): a local measurement starts about as fast as
OpenCV imports.
"""

import sys

if sys.argv[1:2] == ["measure"]:
    from objlen.cli.measure import main
else:
    from objlen.cli.main import main

sys.exit(main())
