"""``python -m engine.demo``: run the demo service standalone."""

import sys

from engine.demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
