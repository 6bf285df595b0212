"""Running a call in the background, for tests that need two threads at once."""
import threading


def in_thread(function, *args):
    """Run ``function`` in a daemon thread; return the thread and a list that will hold its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.daemon = True
    thread.start()
    return thread, result
