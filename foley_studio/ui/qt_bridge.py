"""The one way background work reaches the GUI: `call_in_thread` and `TaskRunner`.

What may cross threads (the whole rule, for every worker in the editor):

1. A worker gets its inputs as values it alone holds: paths, numbers, frozen requests, and copies
   of the project (`copy.deepcopy`, `ProjectAudio.snapshot`). It never reads a widget, a QPixmap
   or the project the GUI is editing.
2. A worker hands results back only through `call_in_thread(receiver, fn, *args)`: `fn(*args)`
   then runs on `receiver`'s thread (the GUI thread for every widget and cache here). Results may
   be any Python object — numpy arrays, dataclasses, QImage (never QPixmap, which is GUI-only).
3. Python objects never travel as arguments of queued signals (PySide's reference counting of
   such arguments has crashed at interpreter exit). The call and its arguments wait in a locked
   inbox; only an argument-less wake-up goes through Qt's event queue.
4. A call whose receiver was deleted before it could run is dropped: a window closed while a
   worker finishes is not an error.

`TaskRunner` is the worker: one thread per kind of work, started on first use. With
`latest_wins=True` a new `submit` replaces the task still waiting (scrubbing and scrolling post far
faster than work finishes: only the newest request matters), and the running task can poll
`superseded()` to stop early (also after `clear()`: nobody wants its result any more). With `latest_wins=False` every task runs, in order.
"""
from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal

log = logging.getLogger(__name__)


class _Inbox(QObject):
    """Calls waiting to run on one thread; `wake` (no arguments) drains them there."""

    wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._calls: collections.deque[tuple[QObject, Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self.wake.connect(self._drain, Qt.QueuedConnection)   # always later, also from its own thread

    def put(self, receiver: QObject, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            first = not self._calls
            self._calls.append((receiver, fn, args))
        if first:
            self.wake.emit()           # queued: the inbox lives on the receiver's thread

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._calls:
                    return
                receiver, fn, args = self._calls.popleft()
            if not shiboken6.isValid(receiver):
                continue               # rule 4: its receiver is gone
            try:
                fn(*args)
            except Exception:          # one bad handler must not drop the calls behind it
                log.exception("call from a worker thread failed")


_inboxes: dict[int, _Inbox] = {}
_inboxes_lock = threading.Lock()


def _inbox_for(thread: QThread) -> _Inbox:
    key = id(thread)
    with _inboxes_lock:
        inbox = _inboxes.get(key)
        if inbox is None or not shiboken6.isValid(inbox):
            inbox = _Inbox()
            if inbox.thread() is not thread:
                inbox.moveToThread(thread)
            _inboxes[key] = inbox
        return inbox


def call_in_thread(receiver: QObject, fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` on `receiver`'s thread, from its event loop (also when called on that thread)."""
    if not shiboken6.isValid(receiver):
        return
    _inbox_for(receiver.thread()).put(receiver, fn, args)


class TaskRunner:
    """One background thread for one kind of work; results come back through `call_in_thread`."""

    def __init__(self, receiver: QObject, name: str, *, latest_wins: bool = True):
        self.receiver = receiver
        self.name = name
        self.latest_wins = latest_wins
        self._cond = threading.Condition()
        self._tasks: collections.deque[tuple[Callable[[], Any], Callable[[Any], None] | None,
                                             Callable[[Exception], None] | None, int]] = collections.deque()
        self._running = False
        self._serial = 0                   # bumped by every submit and clear
        self._running_serial = -1          # the serial of the task now running
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
               failed: Callable[[Exception], None] | None = None) -> bool:
        """Queue `work()`; `done(result)` or `failed(exception)` then runs on the receiver's thread.

        Returns False (and runs nothing) once the runner is shut down.
        """
        with self._cond:
            if self._stopped:
                return False
            if self.latest_wins:
                self._tasks.clear()
            self._serial += 1
            self._tasks.append((work, done, failed, self._serial))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return True

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """From the work: hand a partial result to the receiver's thread now."""
        call_in_thread(self.receiver, fn, *args)

    def superseded(self) -> bool:
        """From the work: True when a newer task was submitted or `clear` was called since it started
        (latest wins), or the runner is stopping."""
        with self._cond:
            return self._stopped or (self.latest_wins and self._running_serial != self._serial)

    def clear(self) -> None:
        """Drop the tasks that have not started (and, latest wins, tell the running one it is superseded)."""
        with self._cond:
            self._tasks.clear()
            self._serial += 1
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._tasks and not self._running

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until no task waits or runs; False if `timeout_s` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._tasks and not self._running, timeout_s)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Drop waiting tasks, let the running one finish (up to `timeout_s`), stop the thread."""
        with self._cond:
            self._stopped = True
            self._tasks.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._tasks and not self._stopped:
                    self._cond.wait()
                if self._stopped and not self._tasks:
                    self._thread = None
                    self._cond.notify_all()
                    return
                work, done, failed, self._running_serial = self._tasks.popleft()
                self._running = True
            try:
                result = work()
            except Exception as exc:       # reported to the receiver, never raised in the worker
                if failed is None:
                    log.exception("%s task failed", self.name)
                else:
                    self.post(failed, exc)
            else:
                if done is not None:
                    self.post(done, result)
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
