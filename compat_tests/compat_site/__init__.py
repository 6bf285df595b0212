"""A Django 1.11 site served by Channels 1.1.8's runserver over this package's in-memory layer."""
