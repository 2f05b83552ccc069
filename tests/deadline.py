"""`deadline(seconds)`: a test that would hang (a FIFO opened for reading waits for a writer forever, a
size nobody checked makes a call run for hours) fails instead."""

import signal
from contextlib import contextmanager


@contextmanager
def deadline(seconds: float):
    """Raise TimeoutError in the block if it still runs after `seconds` (on systems without an
    interval timer the block runs unguarded)."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
