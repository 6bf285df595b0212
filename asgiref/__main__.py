"""``python -m asgiref``: the asgiref command."""
import sys

from .command import main

sys.exit(main())
