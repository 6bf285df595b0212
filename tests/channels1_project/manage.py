#!/usr/bin/env python
"""A Channels 1.1.8 project for tests/test_channels1.py: ``python manage.py runworker``."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
