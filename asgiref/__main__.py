"""``python -m asgiref``: the asgiref command."""
import sys

from .command.cli import main

sys.exit(main())
