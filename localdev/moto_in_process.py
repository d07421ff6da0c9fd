"""The embedded moto's server, with this process's own boto3 calls to it answered in-process.

moto serves through werkzeug's development server, which closes the connection after every
answer: each call of the served app cost a new TCP connection, a new server thread, and the
socket writes and reads of both ends, all in this one process (each end waiting for the
GIL's turn after every socket call): ~1.5 ms of CPU a call beyond moto's own work (more time
on a busy machine), six calls a login; `make run`'s login took 1.27x the one on DynamoDB Local.

Here a call from this process to the server's address skips the sockets: the same request
(method, path, query, headers, body) goes to the same WSGI application the server runs, and
botocore reads its answer (status, headers, body) as it would have read it off the socket:
errors, retries and checksums included. Other processes (seeding, operator commands) still
reach moto through its port; once the server is stopped, calls to its address fail again.
"""
import threading
from urllib.parse import urlsplit

from moto.server import ThreadedMotoServer

# Where in-process calls are answered: origin ("http://127.0.0.1:PORT") -> WSGI application.
_applications: dict[str, object] = {}
_registering = threading.Lock()
_registered = False


class EmbeddedMotoServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer whose own process's calls to it skip the sockets."""

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> None:
        super().start()
        answer_in_process(self.url, self._server.app)

    def stop(self) -> None:
        _applications.pop(self.url, None)
        super().stop()


def answer_in_process(origin: str, application) -> None:
    """botocore sessions of this process (those already created too) hand requests for
    `origin` to `application`, a WSGI application, instead of sending them."""
    global _registered
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    _applications[origin] = application
    with _registering:
        if _registered:
            return
        _registered = True
        # Every session created from now on starts with the built-in handlers (as moto's own
        # mock registers itself); the default session may already exist.
        BUILTIN_HANDLERS.append(("before-send", send_in_process))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register("before-send", send_in_process)


def send_in_process(request, **_):
    """botocore's before-send event: an answer ends the call without a network send."""
    url = urlsplit(request.url)
    origin = f"{url.scheme}://{url.netloc}"
    application = _applications.get(origin)
    if application is None:
        return None
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse
    from urllib3 import HTTPHeaderDict
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    headers = [(name, value.decode("latin-1") if isinstance(value, bytes) else value)
               for name, value in request.headers.items()]
    environ = EnvironBuilder(path=url.path or "/", query_string=url.query, base_url=origin, method=request.method,
                             headers=headers, data=body or b"").get_environ()
    chunks, status, answer_headers = run_wsgi_app(application, environ, buffered=True)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return AWSResponse(request.url, int(status.split(" ", 1)[0]), HTTPHeaderDict(answer_headers.to_wsgi_list()),
                       MockRawResponse(content))
