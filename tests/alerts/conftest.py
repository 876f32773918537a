"""Real servers on 127.0.0.1 for the alert tests: an SMTP server (aiosmtpd), an HTTP
receiver, and sockets that refuse or never answer. Timeouts are kept short so
a test that hangs fails in seconds, not minutes."""

import email
import email.policy
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alert_samples import PASSWORD, USER

REFUSED_PREFIX = "nobody@"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """A proxy in the environment would swallow the requests meant for 127.0.0.1."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it accepts, and refuses ``nobody@`` recipients."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith(REFUSED_PREFIX):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.content, policy=email.policy.default),
            tls=session.ssl is not None,
            login=login,
        ))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=True, auth_data=auth_data) if ok else AuthResult(success=False, handled=False)


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator:
    """Start an aiosmtpd server with the given SMTP options; stopped after the test.

    ``login=True`` makes it demand AUTH and accept only ``USER``/``PASSWORD``.
    """
    controllers = []

    def start(login: bool = False, **options) -> SmtpServer:
        if login:
            options.update(authenticator=authenticator, auth_required=True)
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5, **options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(controller.port, inbox)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed: cannot make a certificate for the STARTTLS tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


@pytest.fixture
def server_tls(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@dataclass
class Post:
    path: str
    content_type: str
    body: bytes


@dataclass
class HttpReceiver:
    url: str
    posts: list[Post]


@pytest.fixture
def http_receiver() -> Iterator:
    """Start an HTTP server that records each POST and answers ``status`` (and ``location`` on 3xx)."""
    servers = []

    def start(status: int = 200, location: str | None = None) -> HttpReceiver:
        posts: list[Post] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                posts.append(Post(self.path, self.headers.get("Content-Type", ""), self.rfile.read(length)))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                reply = b"ok" if status < 300 else b"invalid_payload"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_GET(self):
                posts.append(Post(self.path, "GET", b""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}", posts)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word: a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused at once."""
    return free_port()
