"""
A WSGI request body cut into the chunks of an ``http.request`` and its body channel.
"""
from __future__ import unicode_literals


class BodyProblem(Exception):
    """The request body cannot be passed on; ``response`` is the error to answer with."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.response = status, text


def body_chunks(stream, length, chunk_size, limit):
    """
    Yield ``(chunk, more)`` for a request body of ``length`` bytes (None:
    read to the end of a terminated input), at most ``chunk_size`` each.
    """
    remaining = length
    total = 0
    chunk = None
    while True:
        want = chunk_size if remaining is None else min(chunk_size, remaining)
        try:
            data = stream.read(want) if want else b""
        except (IOError, OSError) as error:
            raise BodyProblem(400, "Reading the request body failed: %s" % error)
        if remaining is not None:
            if len(data) < want:
                raise BodyProblem(400, "The request body ended after %d of %d bytes."
                                  % (length - remaining + len(data), length))
            remaining -= len(data)
        total += len(data)
        if limit is not None and total > limit:
            raise BodyProblem(413, "The request body is over %d bytes." % limit)
        if chunk is not None:
            yield chunk, bool(data)
            if not data:
                return
        elif not data:
            yield b"", False
            return
        chunk = data
        if remaining == 0:
            yield chunk, False
            return
