"""``python -m infra.cli``."""

import sys

from infra.cli import main

sys.exit(main())
