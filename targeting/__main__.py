"""Entry point for ``python -m targeting``."""

import sys

from targeting.cli import main

if __name__ == "__main__":
    sys.exit(main())
