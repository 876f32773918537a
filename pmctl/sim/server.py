"""Runs the simulator's WSGI app on a background thread so tests and demos can share a process."""

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from pmctl.sim.app import SimApp
from pmctl.sim.state import SimState


class _QuietHandler(WSGIRequestHandler):
    """Keeps test output clean; the request log on SimState records every broker call."""

    def log_request(self, code="-", size="-") -> None:
        pass


class SimServer:
    """An Alpaca-compatible server on 127.0.0.1; port 0 picks a free port.

    Usage: ``with SimServer(state) as sim: TradingClient(..., url_override=sim.url)``.
    The websocket streams share the port: ``TradingStream(..., url_override=sim.trading_stream_url)``,
    ``StockDataStream(..., url_override=sim.stock_stream_url())``,
    ``OptionDataStream(..., url_override=sim.option_stream_url())``.
    """

    def __init__(self, state: SimState | None = None, host: str = "127.0.0.1", port: int = 0,
                 quiet: bool = True):
        self.state = state or SimState()
        self._server = make_server(
            host, port, SimApp(self.state), threaded=True,
            request_handler=_QuietHandler if quiet else None,
        )
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.stream_url = f"ws://{host}:{self.port}"
        self.trading_stream_url = f"{self.stream_url}/stream"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"pmctl-sim:{self.port}", daemon=True)
        self._thread.start()

    def stock_stream_url(self, feed: str = "iex") -> str:
        return f"{self.stream_url}/v2/{feed}"

    def option_stream_url(self, feed: str = "indicative") -> str:
        return f"{self.stream_url}/v1beta1/{feed}"

    def stop(self) -> None:
        """Also releases requests stuck in a `hang` fault and closes every stream (with a close frame)."""
        self.state.stopping.set()
        self.state.streams.close_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "SimServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
