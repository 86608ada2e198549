"""The demo stores' HTTP side: a threaded local server that can drop its kept-alive connections
on stop, the request handler (with the ``drip`` and ``huge`` ways of sending a body) and
``Reply``, the answer a store raises or returns.

Store-neutral: a store (``faults.FaultyStore``) decides what to answer; this only moves bytes.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from .faults import FaultyStore

log = logging.getLogger(__name__)


class Reply(Exception):
    """An HTTP answer, raised from deep inside a handler to end it."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None, *,
                 raw: bytes | None = None, content_type: str = "application/json; charset=utf-8",
                 plain: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.plain = plain
        """True: send only these headers (no ``answer_headers``)."""
        self.payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.headers = {"Content-Type": content_type, **(headers or {})} if self.payload or raw is not None else dict(headers or {})
        self.drip = 0.0
        self.huge = 0
        self.stopping: threading.Event | None = None


def error_page(status: int) -> bytes:
    """The HTML error page a web server in front of a store answers (fault knob ``html``)."""
    return f"<html><head><title>{status} Error</title></head><body><h1>Server Error</h1></body></html>".encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: FaultyStore) -> None:
        self.store = store
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, store.handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive connections too, so a stopped sandbox really refuses clients."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    """Serves the methods it has a ``do_*`` for (a store may subclass it to add HEAD, say)."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    server: Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, delayed ACKs add ~40 ms per call.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        reply = self.server.store.handle(method, parts.path, query, self.headers, body)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.huge:
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                self._send_huge(reply)
                return
            self.send_header("Content-Length", str(len(reply.payload)))
            self.end_headers()
            if reply.drip:
                self._send_drip(reply)
            elif method != "HEAD":
                self.wfile.write(reply.payload)
        except OSError:  # the client gave up (timeouts in tests) or the sandbox is stopping
            self.close_connection = True

    def _send_drip(self, reply: Reply) -> None:
        """Fault ``drip``: the body one byte at a time, ``reply.drip`` seconds apart."""
        self.wfile.flush()
        for position in range(len(reply.payload)):
            if reply.stopping is not None and reply.stopping.wait(reply.drip):
                raise OSError("sandbox stopping")
            self.wfile.write(reply.payload[position:position + 1])
            self.wfile.flush()

    def _send_huge(self, reply: Reply) -> None:
        """Fault ``huge``: ``reply.huge`` bytes of a JSON array of the store's ``HUGE_RECORD``,
        no Content-Length."""
        chunk = (self.server.store.HUGE_RECORD + b",") * 1000
        self.wfile.write(b"[")
        sent = 1
        while sent < reply.huge:
            self.wfile.write(chunk)
            sent += len(chunk)
        self.wfile.write(self.server.store.HUGE_LAST + b"]")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — stdlib signature
        log.debug("sandbox: " + format, *args)
