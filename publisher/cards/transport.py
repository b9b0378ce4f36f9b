"""One HTTP GET to an address that was already checked, finished by a wall-clock deadline.

Why not ``requests``: it resolves the host name again when it connects (a second answer
could point somewhere the first did not: DNS rebinding), and its timeout applies to each
socket read, so a server sending a byte every few seconds keeps a build waiting forever.
Here the connection goes to the address :mod:`publisher.cards.addresses` checked, and
every socket read and write (TLS handshake included: TLS runs over memory buffers on top
of the same deadline-bound reads) waits at most for the time left before the deadline.
Proxy settings (``HTTPS_PROXY``...) are not used for card images.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from typing import Any

from publisher.cards.addresses import Address


class DeadlineExceeded(TimeoutError):
    """The fetch ran out of its time budget."""


class _Wire:
    """A connected socket, optionally with TLS, whose every wait ends by ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()

    def _left(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the time limit ran out")
        return left

    def _raw_recv(self, size: int) -> bytes:
        self._sock.settimeout(self._left())
        try:
            return self._sock.recv(size)
        except TimeoutError:
            raise DeadlineExceeded("the time limit ran out") from None

    def _raw_send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._sock.settimeout(self._left())
            try:
                sent = self._sock.send(view)
            except TimeoutError:
                raise DeadlineExceeded("the time limit ran out") from None
            view = view[sent:]

    def start_tls(self, context: ssl.SSLContext, hostname: str) -> None:
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=hostname)
        self._pump(self._tls.do_handshake)

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._raw_send(pending)

    def _pump(self, operation: Any) -> Any:
        while True:
            try:
                result = operation()
            except ssl.SSLWantReadError:
                self._flush()
                data = self._raw_recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def recv_into(self, buffer: memoryview) -> int:
        if self._tls is None:
            data = self._raw_recv(len(buffer))
        else:
            tls = self._tls
            try:
                data = self._pump(lambda: tls.read(len(buffer)))
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                data = b""
        buffer[: len(data)] = data
        return len(data)

    def sendall(self, data: bytes) -> None:
        if self._tls is None:
            self._raw_send(bytes(data))
            return
        tls = self._tls
        self._pump(lambda: tls.write(bytes(data)))

    def close(self) -> None:
        self._sock.close()


class _Reader(io.RawIOBase):
    def __init__(self, owner: _WireSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._owner.wire.recv_into(memoryview(buffer).cast("B"))

    def close(self) -> None:
        if not self.closed:
            self._owner.reader_closed()
        super().close()


class _WireSocket:
    """What :class:`http.client.HTTPConnection` needs from a socket, over a :class:`_Wire`.

    As with a real socket's ``makefile``, the connection may close its socket while the
    response is still reading the body: the wire stays open until the reader is closed.
    """

    def __init__(self, wire: _Wire) -> None:
        self.wire = wire
        self._readers = 0
        self._closing = False

    def makefile(self, mode: str) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def sendall(self, data: bytes) -> None:
        self.wire.sendall(data)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and self._readers == 0:
            self.wire.close()

    def close(self) -> None:
        self._closing = True
        if self._readers == 0:
            self.wire.close()


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to a fixed address; ``host`` is only used for Host and TLS."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: Address,
        deadline: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port)
        self._address = address
        self._deadline = deadline
        self._tls_context = tls

    def connect(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the time limit ran out")
        try:
            sock = socket.create_connection((str(self._address), self.port), timeout=left)
        except TimeoutError:
            raise DeadlineExceeded("the time limit ran out") from None
        wire = _Wire(sock, self._deadline)
        try:
            if self._tls_context is not None:
                wire.start_tls(self._tls_context, self.host)
        except BaseException:
            wire.close()
            raise
        self.sock = _WireSocket(wire)


def open_get(
    *,
    scheme: str,
    host: str,
    port: int,
    target: str,
    address: Address,
    deadline: float,
    headers: dict[str, str],
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Send ``GET target`` to ``address`` and read the status line and headers.

    The caller reads the body from the response (``read(n)``, bounded by the deadline)
    and closes the connection.
    """
    tls = ssl.create_default_context() if scheme == "https" else None
    connection = _Connection(host, port, address=address, deadline=deadline, tls=tls)
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
    except BaseException:
        connection.close()
        raise
    return connection, response
