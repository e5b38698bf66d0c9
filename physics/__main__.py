"""Entry point of ``python -m physics``."""

import sys

from physics.cli import main

if __name__ == "__main__":
    sys.exit(main())
