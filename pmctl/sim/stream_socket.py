"""Websocket streams on the emulator's own HTTP port: werkzeug hands the socket over, websockets speaks RFC 6455.

werkzeug's development server has no websocket support, but it gives the application
the connection (``werkzeug.socket``). An upgrade request on a stream path is replayed
into a websockets sans-I/O server protocol, answered with 101, and the connection is
then served by websockets' threading ``Connection`` on a duplicate of the socket, so
the request's werkzeug thread becomes the session's reader; a second thread writes
what the hub queues. When the session ends, both directions of the socket are shut
down and werkzeug is told the connection dropped, so it answers nothing more.
"""

import socket
import threading
import time

from websockets.exceptions import ConnectionClosed
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection
from werkzeug.wrappers import Request

from pmctl.sim import stream_wire
from pmctl.sim.stream_sessions import session_for
from pmctl.sim.streams import StreamConnection, StreamHub

MAX_MESSAGE_BYTES = 2 ** 20
CLOSE_TIMEOUT_SECONDS = 1.0


class Hijacked(ConnectionResetError):
    """The socket served a websocket session; werkzeug must not write an HTTP answer on it."""


def is_upgrade(request: Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _handshake_bytes(request: Request) -> bytes:
    """The upgrade request as the client sent it (werkzeug has already read it off the socket)."""
    target = request.environ.get("REQUEST_URI") or request.full_path
    lines = [f"{request.method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def serve_stream(request: Request, hub: StreamHub, state, kind: str) -> None:
    """Serve one websocket session on the request's socket until it ends; always raises ``Hijacked``."""
    raw = request.environ["werkzeug.socket"]
    own = raw.dup()
    try:
        protocol = ServerProtocol(max_size=MAX_MESSAGE_BYTES)
        protocol.receive_data(_handshake_bytes(request))
        events = protocol.events_received()
        response = protocol.accept(events[0]) if events else protocol.reject(400, "bad handshake\n")
        protocol.send_response(response)
        own.sendall(b"".join(protocol.data_to_send()))
        if response.status_code == 101:
            _session(Connection(own, protocol, ping_interval=None,
                                close_timeout=CLOSE_TIMEOUT_SECONDS),
                     request, hub, state, kind)
    finally:
        for sock in (own, raw):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        own.close()
    raise Hijacked("websocket session over")


def _session(websocket: Connection, request: Request, hub: StreamHub, state, kind: str) -> None:
    connection = StreamConnection(kind, request.path,
                                  stream_wire.encoding_of(request.headers.get("Content-Type")))
    session = session_for(hub, state, connection)
    hub.open(connection)
    writer = threading.Thread(target=_write, args=(websocket, connection),
                              name=f"pmctl-sim-stream-{connection.id}", daemon=True)
    writer.start()
    try:
        session.opened(request.headers)
        _read(websocket, session)
    finally:
        hub.close(connection)
        writer.join(CLOSE_TIMEOUT_SECONDS + 1)
        hub.finished(connection)


def _read(websocket: Connection, session) -> None:
    while True:
        wait = None if session.deadline is None else max(0.0, session.deadline - time.monotonic())
        try:
            raw = websocket.recv(timeout=wait)
        except TimeoutError:
            session.timed_out()
            continue
        except ConnectionClosed:
            return
        try:
            message = stream_wire.decode(raw)
        except ValueError:
            message = None
        session.receive(message)


def _write(websocket: Connection, connection: StreamConnection) -> None:
    """Send what is queued; then close as the hub said: a close frame, or cut without one."""
    binary = connection.kind == "trading"
    ending = None
    try:
        while True:
            frame, ending = connection.outbox.take()
            if frame is None:
                break
            websocket.send(stream_wire.encode(frame, connection.encoding, binary))
    except (ConnectionClosed, OSError):
        return
    if ending == "abrupt":
        try:
            websocket.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    else:
        websocket.close()
