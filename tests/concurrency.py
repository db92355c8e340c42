"""Work started at the same instant in several threads, each on its own database connection."""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(work: Callable[[], T], times: int = 2) -> list[T | Exception]:
    """Run `work` in `times` threads released together by a barrier; what each returned or raised, in the order
    they finished. Each thread closes its own connection (Django opens one per thread)."""
    barrier, outcomes, lock = threading.Barrier(times), [], threading.Lock()

    def run():
        try:
            barrier.wait()
            outcome = work()
        except Exception as error:  # the caller asserts on it
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
