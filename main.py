"""Entry point: `python main.py [run|scan|check]` (run is the default; see app/cli.py)."""
import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
