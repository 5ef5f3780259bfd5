"""Run a producer (frame decoding) or a consumer (frame writing) in a background thread.

OpenCV releases the GIL while it decodes and encodes, so reading the next frame and writing the
previous one overlap with detection and embedding of the current one.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Generic, Iterable, Iterator, List, TypeVar

T = TypeVar("T")

_DONE = object()


class Prefetcher(Generic[T]):
    """Iterate ``iterable`` in a thread, ``depth`` items ahead of the consumer.

    Exceptions of the producer are re-raised in the consumer at the position they happened.

    Attributes:
        seconds: Producer wall time spent producing items so far (what decoding cost, without
            the time spent waiting for a free slot).
    """

    def __init__(self, iterable: Iterable[T], depth: int = 4):
        self._iterator = iter(iterable)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                start = time.perf_counter()
                try:
                    item = next(self._iterator)
                except StopIteration:
                    break
                self.seconds += time.perf_counter() - start
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failure(exc))
            return
        self._put(_DONE)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def close(self) -> None:
        """Stop the producer thread and wait for it (it finishes its current item first)."""
        self._stop.set()
        self._thread.join()


class BackgroundWorker(Generic[T]):
    """Call ``function(item)`` for submitted items in order, in one background thread.

    :meth:`submit` blocks when ``depth`` items are pending, so memory stays bounded. An exception
    of ``function`` is re-raised by the next :meth:`submit` or by :meth:`close`.

    Attributes:
        seconds: Wall time of all calls so far.
    """

    def __init__(self, function: Callable[[T], None], depth: int = 4):
        self._function = function
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: List[BaseException] = []
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error:
                continue  # drain after a failure; the error is reported to the caller
            start = time.perf_counter()
            try:
                self._function(item)
            except BaseException as exc:
                self._error.append(exc)
            self.seconds += time.perf_counter() - start

    def submit(self, item: T) -> None:
        """Queue ``item``; raises the error of an earlier call if there was one."""
        self._raise()
        self._queue.put(item)

    def close(self) -> None:
        """Finish the pending items, stop the thread, and raise an error of any call."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error:
            raise self._error[0]


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
