"""The worker processes of a parallel read, forked without ``concurrent.futures`` (Linux).

``ProcessPoolExecutor`` cost a cold build about 30 ms of its main process before the first
post reached a worker: importing ``concurrent.futures.process`` and ``multiprocessing``
(logging, tempfile, subprocess, socket come with them), on one core while the other was
idle (issue 12). Its feeder and manager threads also compete with the main process for the
interpreter lock while it finds the files and, later, hands the feed files over (a worker
started its file 10 to 80 ms after it was sent). Here each worker is forked at once with
two pipes, tasks in and answers out, each message a pickle after its length; the main
process writes a task straight into an idle worker's pipe and reads the answers whenever
it submits or waits. No thread.

:class:`ForkedPool` keeps the part of ``ProcessPoolExecutor``'s contract the read and the
feed stage use: :meth:`~ForkedPool.submit` returns a :class:`Future` (``result``,
``exception``, ``done``, ``running``); a worker that dies (killed, out of memory, a crash
in a C library) breaks the pool, and every task not answered yet and every later submit
raises :class:`BrokenPool`, as ``BrokenProcessPool``; :meth:`~ForkedPool.shutdown`
cancels the tasks no worker has taken. :class:`PipeLock` is the lock the workers share.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from publisher.atomic import write_all
from publisher.interrupts import ctrl_c_deferred

#: A message's length, before its pickle.
_HEADER = struct.Struct("!Q")
#: Tasks a worker holds at once: the one it works on and the next, waiting in its pipe.
#: The rest wait here and go to whichever worker answers first, so the two end together.
DEPTH = 2
#: Bytes asked of the kernel for each pipe (Linux, at most ``/proc/sys/fs/pipe-max-size``,
#: 1 MB by default): a chunk of post files (about 300 KB at 62 posts) then fits, and the
#: main process does not wait for a busy worker to read it.
PIPE_BYTES = 1 << 20
#: Bytes read from an answer pipe at once.
_READ = 1 << 20


class BrokenPool(Exception):
    """A worker of the pool died before it answered, or the pool was shut down first."""

    #: Whether this was the task a worker was running when it died, so may be what killed
    #: it; False for the tasks that failed with it (another worker's, or not started).
    suspect = True


class PipeLock:
    """A lock the pool's processes share: one byte in a pipe, which the holder has taken
    out (``with lock:``). Made before the fork; a worker killed while holding it breaks
    the pool, which then ends the others."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.write(self._write, b"\0")

    def __enter__(self) -> None:
        os.read(self._read, 1)  # waits for the byte (a read of EINTR is retried: PEP 475)

    def __exit__(self, *exc: object) -> None:
        os.write(self._write, b"\0")

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


class Future:
    """A task's answer: :meth:`result` waits for it (its exception raised)."""

    def __init__(self, pool: ForkedPool) -> None:
        self._pool = pool
        self._state = 0  # 0 waiting here, 1 sent to a worker, 2 answered
        self._value: Any = None
        self._error: BaseException | None = None

    def running(self) -> bool:
        """Sent to a worker, not answered yet."""
        return self._state == 1

    def done(self) -> bool:
        return self._state == 2

    def result(self) -> Any:
        self._pool.wait(self)
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        self._pool.wait(self)
        return self._error

    def _settle(self, value: Any, error: BaseException | None) -> None:
        self._state = 2
        self._value, self._error = value, error


class _Worker:
    __slots__ = ("answers", "inbox", "out", "pid", "tasks", "waiting")

    def __init__(self, pid: int, tasks: int, answers: int) -> None:
        self.pid = pid
        self.tasks = tasks  # this process's end of the worker's task pipe (-1: closed)
        self.answers = answers  # and of its answer pipe (-1: closed)
        self.out = bytearray()  # task bytes not written into the pipe yet
        self.inbox = bytearray()  # answer bytes read, not a whole message yet
        self.waiting: deque[Future] = deque()  # sent, in the order it answers them


class ForkedPool:
    """``workers`` processes forked now, each running ``initializer(*initargs)`` first
    (one that fails breaks the pool). Linux only (``PR_SET_PDEATHSIG``, pipe sizes);
    elsewhere the read keeps ``ProcessPoolExecutor``."""

    def __init__(
        self, workers: int, initializer: Callable[..., object], initargs: tuple[Any, ...] = ()
    ) -> None:
        self._max_workers = workers
        self._pending: deque[tuple[Future, tuple[Callable[..., Any], tuple[Any, ...]]]] = deque()
        self._workers: list[_Worker] = []
        self._broken: BrokenPool | None = None
        self._closed = False
        #: Locks the workers share, closed here once they have ended (:meth:`join`).
        self.locks: list[PipeLock] = []
        pipes = [(*os.pipe(), *os.pipe()) for _ in range(workers)]
        every = [fd for four in pipes for fd in four]
        for fd in every:
            _widen(fd)
        for stream in (sys.stdout, sys.stderr):  # not written twice by a child
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        # The objects alive now are the workers' as they are: a collection in a worker
        # would touch, and so copy, every page of them.
        gc.freeze()
        try:
            with ctrl_c_deferred():  # a Ctrl-C now: raised once all are forked
                for task_read, task_write, answer_read, answer_write in pipes:
                    pid = os.fork()
                    if pid == 0:  # the worker: never returns
                        code = 1
                        try:
                            for fd in every:
                                if fd not in (task_read, answer_write):
                                    os.close(fd)
                            code = _serve(task_read, answer_write, initializer, initargs)
                        finally:
                            os._exit(code)
                    self._workers.append(_Worker(pid, task_write, answer_read))
        finally:
            gc.unfreeze()
            for task_read, _, _, answer_write in pipes:
                os.close(task_read)
                os.close(answer_write)
        for worker in self._workers:
            os.set_blocking(worker.tasks, False)
            os.set_blocking(worker.answers, False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` in a worker (``fn`` and ``args`` pickled: a module's function)."""
        if self._broken is not None:
            raise BrokenPool(str(self._broken))
        if self._closed:
            raise RuntimeError("cannot submit to a pool that was shut down")
        future = Future(self)
        # Pickled when a worker takes it, not now: a read finds its files faster than
        # the workers parse them, and most chunks wait here (at 10,000 posts, 40 MB of
        # post files pickled twice over).
        self._pending.append((future, (fn, args)))
        self._turn(block=False)
        return future

    def wait(self, future: Future) -> None:
        """Until ``future`` is answered (or the pool breaks)."""
        while future._state != 2:
            if not self._turn(block=True):
                future._settle(None, BrokenPool("the pool has no worker to answer"))

    def _turn(self, *, block: bool) -> bool:
        """Write what waits to be written, read the answers there are, give each free
        worker its next task; ``block``: wait for one of these first. False when there is
        nothing to wait for."""
        poller = select.poll()
        watched = 0
        for worker in self._workers:
            if worker.waiting and worker.answers >= 0:
                poller.register(worker.answers, select.POLLIN)
                watched += 1
            if worker.out and worker.tasks >= 0:
                poller.register(worker.tasks, select.POLLOUT)
                watched += 1
        if watched == 0:
            self._dispatch()
            return bool(self._sent())
        ready = dict(poller.poll(None if block else 0))
        for worker in self._workers:
            if worker.answers in ready:
                self._receive(worker)
            if worker.tasks in ready:
                self._flush(worker)
        self._dispatch()
        return True

    def _sent(self) -> int:
        return sum(len(worker.waiting) for worker in self._workers)

    def _dispatch(self) -> None:
        while self._pending and self._broken is None:
            worker = min(self._workers, key=lambda w: len(w.waiting))
            if len(worker.waiting) >= DEPTH or worker.tasks < 0:
                return
            future, task = self._pending.popleft()
            try:
                data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # as ProcessPoolExecutor: the future fails
                future._settle(None, error)
                continue
            future._state = 1
            worker.waiting.append(future)
            worker.out += _HEADER.pack(len(data))
            worker.out += data
            self._flush(worker)

    def _flush(self, worker: _Worker) -> None:
        while worker.out and self._broken is None:
            try:
                written = os.write(worker.tasks, worker.out)
            except BlockingIOError:
                return
            except OSError:
                self._break("a worker of the pool stopped before it took its task", worker)
                return
            del worker.out[:written]

    def _receive(self, worker: _Worker) -> None:
        while self._broken is None:
            try:
                data = os.read(worker.answers, _READ)
            except BlockingIOError:
                return
            if not data:
                self._break("a worker of the pool stopped before it answered", worker)
                return
            worker.inbox += data
            self._unpack(worker)
            if len(data) < _READ:
                return

    def _unpack(self, worker: _Worker) -> None:
        inbox = worker.inbox
        while len(inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(inbox)
            end = _HEADER.size + size
            if len(inbox) < end:
                return
            body = bytes(inbox[_HEADER.size : end])
            del inbox[:end]
            future = worker.waiting.popleft()
            try:
                ok, value = pickle.loads(body)
            except Exception as error:  # an exception type that cannot be rebuilt here
                ok, value = False, RuntimeError(f"a worker's answer could not be read: {error}")
            if ok:
                future._settle(value, None)
            else:
                future._settle(None, value)

    def _break(self, why: str, dead: _Worker) -> None:
        """Worker ``dead`` is gone: every task not answered fails, the other workers end.
        Only the task ``dead`` was running (the first it had not answered: it answers in
        order) fails as :attr:`~BrokenPool.suspect`."""
        self._broken = BrokenPool(why)
        for worker in self._workers:
            for at, future in enumerate(worker.waiting):
                future._settle(None, _broken(why, suspect=worker is dead and at == 0))
            worker.waiting.clear()
            worker.out.clear()
            _kill(worker.pid)
        for future, _ in self._pending:
            future._settle(None, _broken(why, suspect=False))
        self._pending.clear()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = True) -> None:
        """No more tasks: those no worker has taken fail (``cancel_futures``, the only
        way here), the workers end after the ones they have; ``wait``: for them to end
        (else :meth:`join` later)."""
        if not self._closed:
            self._closed = True
            for future, _ in self._pending:
                future._settle(None, BrokenPool("the pool was shut down"))
            self._pending.clear()
            for worker in self._workers:
                if worker.out:  # half a task in the pipe: the worker must not run it
                    worker.out.clear()
                    _kill(worker.pid)
                _close(worker, "tasks")
        if wait:
            self.join()

    def join(self) -> None:
        """After :meth:`shutdown`: the answers still to come read, the workers ended."""
        for worker in self._workers:
            if worker.answers >= 0:
                os.set_blocking(worker.answers, True)
                while worker.waiting and self._broken is None:
                    self._receive(worker)
                _close(worker, "answers")
            for future in worker.waiting:
                future._settle(None, BrokenPool("the pool was shut down"))
            worker.waiting.clear()
            if worker.pid:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(worker.pid, 0)
                worker.pid = 0
        for lock in self.locks:
            lock.close()
        self.locks.clear()


def _broken(why: str, *, suspect: bool) -> BrokenPool:
    error = BrokenPool(why)
    error.suspect = suspect
    return error


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # the default size: the main process may wait for a worker to read


def _close(worker: _Worker, end: str) -> None:
    fd = getattr(worker, end)
    if fd >= 0:
        setattr(worker, end, -1)
        with contextlib.suppress(OSError):
            os.close(fd)


def _kill(pid: int) -> None:
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _serve(tasks: int, answers: int, initializer: Callable[..., object], initargs: Any) -> int:
    """A worker's life: run each task it reads, write its answer; 0 when the pool closes
    the task pipe."""
    try:
        initializer(*initargs)
    except BaseException:
        return 1  # the pool sees the pipe close: broken, as ProcessPoolExecutor
    while True:
        head = _read_exact(tasks, _HEADER.size)
        if head is None:
            return 0
        body = _read_exact(tasks, _HEADER.unpack(head)[0])
        if body is None:
            return 0
        try:
            fn, args = pickle.loads(body)
            answer: tuple[bool, Any] = (True, fn(*args))
        except BaseException as error:  # handed to the caller of result()
            answer = (False, error)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            data = pickle.dumps((False, RuntimeError(f"the answer could not be sent: {error}")))
        try:
            write_all(answers, _HEADER.pack(len(data)) + data)
        except OSError:
            return 0  # nobody listens any more


def _read_exact(fd: int, size: int) -> bytes | None:
    parts: list[bytes] = []
    left = size
    while left:
        piece = os.read(fd, min(left, _READ))
        if not piece:
            return None
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)
