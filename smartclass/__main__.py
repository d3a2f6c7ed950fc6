"""``python -m smartclass`` runs the command line."""

import sys

from smartclass.cli import main

sys.exit(main())
