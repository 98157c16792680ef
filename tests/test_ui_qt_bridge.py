"""The thread bridge: results reach the receiver's thread, the newest request wins, a deleted
receiver drops its calls, and failures come back as values."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread

from foley_studio.ui.qt_bridge import TaskRunner, call_in_thread


def test_calls_from_a_worker_run_on_the_receivers_thread(qtbot):
    receiver = QObject()
    ran_on: list[QThread] = []
    worker = threading.Thread(target=lambda: call_in_thread(receiver, lambda: ran_on.append(QThread.currentThread())))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(ran_on), timeout=2000)
    assert ran_on == [receiver.thread()]


def test_latest_wins_drops_waiting_tasks_and_tells_the_running_one(qtbot):
    receiver = QObject()
    runner = TaskRunner(receiver, "test-latest")
    gate, started = threading.Event(), threading.Event()
    results: list[object] = []
    saw_newer: list[bool] = []

    def slow() -> str:
        started.set()
        gate.wait(5)
        saw_newer.append(runner.superseded())
        return "first"

    runner.submit(slow, results.append)
    started.wait(5)
    for n in range(5):                       # posted while the first runs: only the last survives
        runner.submit(lambda n=n: n, results.append)
    gate.set()
    assert runner.wait(5)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=2000)
    assert results == ["first", 4] and saw_newer == [True]
    runner.shutdown()
    assert runner.submit(lambda: 1) is False


def test_queue_mode_runs_everything_in_order_and_failures_come_back(qtbot):
    receiver = QObject()
    runner = TaskRunner(receiver, "test-queue", latest_wins=False)
    results, errors = [], []
    for n in range(4):
        runner.submit(lambda n=n: n * n, results.append)
    runner.submit(lambda: 1 / 0, results.append, errors.append)
    assert runner.wait(5)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=2000)
    assert results == [0, 1, 4, 9] and isinstance(errors[0], ZeroDivisionError)
    runner.shutdown()


def test_a_deleted_receiver_drops_its_calls(qtbot):
    receiver = QObject()
    other = QObject()
    ran: list[str] = []
    worker = threading.Thread(target=lambda: (call_in_thread(receiver, ran.append, "dead"),
                                              call_in_thread(other, ran.append, "alive")))
    import shiboken6
    worker.start()
    worker.join()                            # both calls wait in the inbox ...
    shiboken6.delete(receiver)               # ... and one receiver goes before they run
    qtbot.waitUntil(lambda: ran == ["alive"], timeout=2000)
