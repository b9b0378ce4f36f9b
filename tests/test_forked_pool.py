"""The read's forked worker pool (``publisher/posts/forked.py``), on real processes.

It stands in for ``ProcessPoolExecutor`` (without its ~30 ms of imports and its threads,
issue 12), so it is held to the part of that contract the read and the feed stage use:
every task answered in its own future, whichever worker ran it; a task's exception raised
by ``result``; answers and tasks larger than a pipe; a dead worker breaking the pool for
every task not answered and every later submit; tasks no worker took failing at shutdown;
workers reaped; one lock shared by the workers.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from publisher.posts.forked import DEPTH, BrokenPool, ForkedPool, PipeLock

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the read forks on Linux only")


def _nothing() -> None:
    return None


def _echo(value: object, pause: float = 0.0) -> tuple[int, object]:
    time.sleep(pause)
    return os.getpid(), value


def _slow(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _fail(message: str) -> None:
    raise ValueError(message)


def _die() -> None:
    os._exit(9)


def _big(size: int, data: bytes) -> bytes:
    return bytes(reversed(data)) + b"x" * size


_LOCK: list[PipeLock] = []


def _keep(lock: PipeLock) -> None:
    """The initializer: the lock made before the fork, as the read's workers get it."""
    _LOCK.append(lock)


def _count(path: str, times: int) -> int:
    """Adds one to the number in ``path`` ``times`` times, each a read, a pause and a
    write: two workers doing it at once without the lock lose some."""
    for _ in range(times):
        with _LOCK[0]:
            value = int(Path(path).read_text())
            time.sleep(0.001)
            Path(path).write_text(str(value + 1))
    return os.getpid()


def _failing_start() -> None:
    raise RuntimeError("the worker cannot start")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_every_task_gets_its_own_answer_from_either_worker() -> None:
    pool = ForkedPool(2, _nothing)
    try:
        futures = [pool.submit(_echo, n, 0.005) for n in range(40)]  # far more than 2 * DEPTH
        answers = [future.result() for future in futures]
    finally:
        pool.shutdown()
    assert [value for _, value in answers] == list(range(40))
    assert len({pid for pid, _ in answers}) == 2
    assert os.getpid() not in {pid for pid, _ in answers}


def test_a_free_worker_takes_the_next_task() -> None:
    # One worker sleeps on a long task; of the short ones after it, at most DEPTH - 1 wait
    # in its pipe, and the other worker takes the rest as it answers.
    pool = ForkedPool(2, _nothing)
    try:
        long = pool.submit(_slow, 0.5)
        short = [pool.submit(_slow, 0.0) for _ in range(4 * DEPTH)]
        pids = [future.result() for future in short]
        sleeper = long.result()
    finally:
        pool.shutdown()
    assert pids.count(sleeper) <= DEPTH - 1
    assert len(set(pids) - {sleeper}) == 1


def test_a_task_raising_raises_in_result_and_the_pool_goes_on() -> None:
    pool = ForkedPool(2, _nothing)
    try:
        failed = pool.submit(_fail, "no such post")
        with pytest.raises(ValueError, match="no such post"):
            failed.result()
        assert isinstance(failed.exception(), ValueError)
        assert pool.submit(_echo, "after")
        assert pool.submit(_echo, "after").result()[1] == "after"
    finally:
        pool.shutdown()


def test_tasks_and_answers_larger_than_a_pipe() -> None:
    data = os.urandom(3 << 20)
    pool = ForkedPool(2, _nothing)
    try:
        futures = [pool.submit(_big, n << 20, data) for n in range(6)]
        answers = [future.result() for future in futures]
    finally:
        pool.shutdown()
    for n, answer in enumerate(answers):
        assert answer == bytes(reversed(data)) + b"x" * (n << 20)


def test_a_dead_worker_breaks_the_pool() -> None:
    pool = ForkedPool(2, _nothing)
    pids = [worker.pid for worker in pool._workers]
    try:
        others = [pool.submit(_slow, 0.2) for _ in range(2)]
        dead = pool.submit(_die)  # behind the first: the others are sent meanwhile
        others += [pool.submit(_slow, 0.2) for _ in range(4)]  # not all done when it dies
        with pytest.raises(BrokenPool):
            dead.result()
        broken = 0
        for future in others:  # each answered before the death, or failed
            error = future.exception()
            assert error is None or isinstance(error, BrokenPool)
            broken += error is not None
        assert broken >= 1
        with pytest.raises(BrokenPool):
            pool.submit(_echo, 1)
    finally:
        pool.shutdown()
    assert all(_gone(pid) for pid in pids)


def test_a_worker_that_cannot_start_breaks_the_pool() -> None:
    pool = ForkedPool(2, _failing_start)
    try:
        with pytest.raises(BrokenPool):
            pool.submit(_echo, 1).result()
    finally:
        pool.shutdown()


def test_shutdown_fails_what_no_worker_took_and_reaps_the_workers() -> None:
    pool = ForkedPool(2, _nothing)
    pids = [worker.pid for worker in pool._workers]
    taken = [pool.submit(_slow, 0.2) for _ in range(2 * DEPTH)]
    left = [pool.submit(_echo, n) for n in range(3)]
    pool.shutdown(wait=False)
    with pytest.raises(RuntimeError):
        pool.submit(_echo, 1)
    for future in left:
        assert isinstance(future.exception(), BrokenPool)
    pool.join()
    assert all(isinstance(future.result(), int) for future in taken)  # answered first
    assert all(_gone(pid) for pid in pids)


def test_the_workers_share_one_lock(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    lock = PipeLock()
    pool = ForkedPool(2, _keep, (lock,))
    pool.locks.append(lock)
    try:
        futures = [pool.submit(_count, os.fspath(counter), 40) for _ in range(2)]
        pids = {future.result() for future in futures}
    finally:
        pool.shutdown()
    assert len(pids) == 2
    assert counter.read_text() == "80"
