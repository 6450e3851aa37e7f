"""``python -m conformance``: run every conformance suite and write the compliance report."""

from __future__ import annotations

import sys

from conformance.run import main

if __name__ == "__main__":
    sys.exit(main())
