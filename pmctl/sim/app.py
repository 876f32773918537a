"""HTTP face of the simulator: Alpaca's trading and market-data paths, its websocket streams, and the /_sim control API.

Broker paths go through the global latency, hooks, fault injection, auth and the request log;
/_sim paths skip all of these so a test can always steer the world it is breaking. A
websocket upgrade on a stream path (``/stream``, ``/v2/{feed}``, ``/v1beta1/{feed}``) is
logged like a request and may meet an injected ``error`` fault; otherwise it becomes a
stream session on the same port.
"""

import socket
import time

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pmctl.sim.broker_routes import BROKER_RULES, BrokerRoutes
from pmctl.sim.control_routes import CONTROL_RULES, ControlRoutes
from pmctl.sim.data_routes import DATA_RULES, DataRoutes
from pmctl.sim.models import Fault, SimError
from pmctl.sim.state import SimState
from pmctl.sim.stream_sessions import stream_kind
from pmctl.sim.stream_socket import is_upgrade, serve_stream
from pmctl.sim.wire import refuse

_FAULT_MESSAGES = {
    429: "rate limit exceeded",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


class _NoAnswer(Exception):
    """The client must get no HTTP answer at all."""


def _fault_response(fault: Fault, default_status: int) -> Response:
    status = fault.status or default_status
    message = fault.message or _FAULT_MESSAGES.get(status, "injected fault")
    return refuse(status, status * 100000 + 10000, message)


class SimApp(BrokerRoutes, DataRoutes, ControlRoutes):
    """WSGI application over one SimState; the route mixins hold the handlers."""

    def __init__(self, state: SimState):
        self.state = state
        self.url_map = Map(
            [Rule(path, methods=[method], endpoint=endpoint)
             for method, path, endpoint in BROKER_RULES + DATA_RULES + CONTROL_RULES],
            strict_slashes=False,
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        kind = stream_kind(request.path) if is_upgrade(request) else None
        try:
            response = self._stream(request, kind) if kind else self._handle(request)
        except _NoAnswer:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("simulated lost answer") from None
        return response(environ, start_response)

    def _stream(self, request: Request, kind: str) -> Response:
        """An injected ``error`` refuses the handshake; otherwise the session runs here until it ends."""
        fault = self.state.take_fault(request.method, request.path)
        if fault and fault.kind == "error":
            response = _fault_response(fault, 500)
            self.state.log_request(request.method, request.path, None, response.status_code)
            return response
        self.state.log_request(request.method, request.path, None, 101)
        serve_stream(request, self.state.streams, self.state, kind)

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/_sim/"):
            return self._dispatch(request, None)
        if self.state.latency:
            time.sleep(self.state.latency)
        account_name, auth_error = None, None
        try:
            account_name = self.state.authenticate(
                request.headers.get("APCA-API-KEY-ID"),
                request.headers.get("APCA-API-SECRET-KEY")).name
        except SimError as e:
            auth_error = e
        status = 0
        try:
            hook = self.state.take_hook(request.method, request.path)
            if hook is not None:
                hook.action()
            fault = self.state.take_fault(request.method, request.path)
            if fault and fault.kind == "error":
                response = _fault_response(fault, 500)
                status = response.status_code
                return response
            if fault and fault.kind == "latency":
                time.sleep(1.0 if fault.seconds is None else fault.seconds)
            if fault and fault.kind == "hang":
                self.state.stopping.wait(3600.0 if fault.seconds is None else fault.seconds)
                raise _NoAnswer
            if auth_error:
                response = refuse(auth_error.status, auth_error.code, auth_error.message)
            else:
                response = self._dispatch(request, account_name)
            if fault and fault.kind == "lost_answer":
                if fault.status is None:
                    raise _NoAnswer
                response = _fault_response(fault, 504)
            if fault and fault.kind == "slow_answer":
                self.state.stopping.wait(1.0 if fault.seconds is None else fault.seconds)
            status = response.status_code
            return response
        finally:
            self.state.log_request(request.method, request.path, account_name, status,
                                   request.args.get("feed"))

    def _dispatch(self, request: Request, account: str | None) -> Response:
        try:
            endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return refuse(e.code or 404, (e.code or 404) * 100000 + 10000,
                          "endpoint not found" if e.code == 404 else "method not allowed")
        try:
            if account is None:
                return getattr(self, endpoint)(request, **values)
            return getattr(self, endpoint)(request, account, **values)
        except SimError as e:
            return refuse(e.status, e.code, e.message)
