"""`python -m qasr` runs the `qasr` command."""

import sys

from qasr.app.entry.cli import main

if __name__ == "__main__":
    sys.exit(main())
