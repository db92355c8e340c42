"""Work started at the same instant in several threads, each on its own database connection."""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(work: Callable[[], T] | Sequence[Callable[[], T]], times: int = 2) -> list[T | Exception]:
    """Run `work` in `times` threads (or each callable of a list in a thread of its own) released together by a
    barrier; what each returned or raised, in the order they finished. Each thread closes its own connection
    (Django opens one per thread)."""
    works = [work] * times if callable(work) else list(work)
    barrier, outcomes, lock = threading.Barrier(len(works)), [], threading.Lock()

    def run(job: Callable[[], T]):
        try:
            barrier.wait()
            outcome = job()
        except Exception as error:  # the caller asserts on it
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
