"""``python -m asgiref``: the asgiref command."""
import sys

from .cli import main

sys.exit(main())
