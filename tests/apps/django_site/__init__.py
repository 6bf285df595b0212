"""
A minimal Django project for the end-to-end WSGI bridge tests.

It runs on every Django release the test environments install (1.11 on
Python 2.7, 3.2, 4.2 and 5.2), needs no database, and answers with
deterministic bodies so that a response served directly can be compared
byte for byte with the same response served through the ASGI bridge.
"""
