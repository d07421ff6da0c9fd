"""`make run`: the API on http://127.0.0.1:8000 backed by an embedded local AWS.

- Default: moto's server in this process on a free 127.0.0.1 port (DynamoDB, SES, KMS),
  with the table, key and sender created from the project's definitions.
- LOCAL_AWS=dynamodb-local: as the default, with DynamoDB served by DynamoDB Local.
- LOCAL_AWS=localstack: everything on LocalStack (no Docker).
  Both real servers run in private network namespaces, reachable only on 127.0.0.1, and
  are stopped with this program.
- AWS_ENDPOINT_URL already set (a server you run): resources are created there.
- LOCAL_AWS=real: the ambient AWS credentials and an already deployed stack are used as is.
"""
import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SWEEP_SECONDS = 60


def stage_environment(stage: str):
    from chalice.cli.factory import CLIFactory

    config = CLIFactory(str(PROJECT)).create_config_obj(chalice_stage_name=stage)
    return config, dict(config.environment_variables)


FRONTEND = PROJECT / "frontend"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
# What the README asks a production host (CloudFront's response headers policy) to send too.
FRONTEND_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def frontend_file(path: str) -> Path | None:
    """The reference web frontend's file for a GET path: a file of frontend/, index.html for
    the single-page app's routes (a last segment without a dot), or None for the API."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path.startswith(("/v1/", "/_dev/")) or path == "/openapi.json":
        return None
    name = path.lstrip("/")
    candidate = (FRONTEND / name).resolve()
    if name and FRONTEND in candidate.parents and candidate.is_file():
        return candidate
    if "." not in name.rsplit("/", 1)[-1]:
        return FRONTEND / "index.html"
    return None


def unknown_path_response() -> tuple[int, str]:
    """What API Gateway answers for a path no route has: infra/app.json's gateway response for
    MISSING_AUTHENTICATION_TOKEN (404 in the API's error shape), read from there so that the
    local server answers the same instead of Chalice's 403 "Missing Authentication Token"."""
    template = json.loads((PROJECT / "infra" / "app.json").read_text())
    unknown = template["Resources"]["UnknownPathResponse"]["Properties"]
    return int(unknown["StatusCode"]), unknown["ResponseTemplates"]["application/json"]


def local_origins(host: str, port: int) -> dict:
    """The local stage's frontend is this server: its links and allowed origins follow the
    port and host it listens on (localhost first: WebAuthn needs that name, not the IP)."""
    names = ["localhost", "127.0.0.1"]
    if host not in (*names, "0.0.0.0", "::"):
        names.append(host)
    return {"PUBLIC_BASE_URL": f"http://localhost:{port}",
            "ALLOWED_ORIGINS": ",".join(f"http://{name}:{port}" for name in names)}


def start_outbox_sweeper(every_seconds: float = SWEEP_SECONDS) -> threading.Event:
    """The scheduled `outbox_sweeper` Lambda's stand-in (the local server runs no schedules):
    every minute, the notices whose inline send failed are sent again. Set the returned event
    to stop it."""
    stop = threading.Event()

    def sweep_until_stopped():
        from chalicelib.ledger import outbox

        while not stop.wait(every_seconds):
            try:
                swept = outbox.sweep()
            except Exception:
                logging.getLogger(__name__).exception("outbox sweep failed")
                continue
            if swept["listed"]:
                print(f"Outbox sweep: {swept['delivered']} sent, {swept['failed']} failed", flush=True)

    threading.Thread(target=sweep_until_stopped, name="outbox-sweeper", daemon=True).start()
    return stop


def _stop_like_ctrl_c(signum, frame):
    """`kill` (tests, CI) stops as cleanly as Ctrl-C, real servers included."""
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default="local")
    args = parser.parse_args()

    config, environment = stage_environment(args.stage)
    if args.stage == "local":
        environment.update(local_origins(args.host, args.port))
    for name, value in environment.items():
        os.environ.setdefault(name, value)

    sys.path.insert(0, str(PROJECT))
    from localdev import embedded_aws

    mode = os.environ.get("LOCAL_AWS") or ("endpoint" if os.environ.get("AWS_ENDPOINT_URL") else "embedded")
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    servers = []
    try:
        if mode in ("embedded", "dynamodb-local"):
            # LOCAL_AWS_PORT: a fixed port, so that operator commands (python -m ops.sso ...) can
            # reach this local AWS with AWS_ENDPOINT_URL.
            embedded_aws.start_moto(int(os.environ["LOCAL_AWS_PORT"]) if os.environ.get("LOCAL_AWS_PORT") else None)
            print(f"Embedded local AWS (moto) on {os.environ['AWS_ENDPOINT_URL']}", flush=True)
        if mode == "dynamodb-local":
            from localdev import servers as real_servers

            servers.append(real_servers.start_dynamodb_local())
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = servers[-1].url
            print(f"DynamoDB Local on {servers[-1].url}", flush=True)
        elif mode == "localstack":
            from localdev import servers as real_servers

            servers.append(real_servers.start_localstack())
            os.environ["AWS_ENDPOINT_URL"] = servers[-1].url
            print(f"LocalStack on {servers[-1].url}", flush=True)
        if mode in ("endpoint", "localstack"):
            for name, value in embedded_aws.LOCAL_CREDENTIALS.items():
                os.environ.setdefault(name, value)
        if mode != "real":
            push_settings = embedded_aws.provision(os.environ["TABLE_NAME"], os.environ["KMS_KEY_ID"],
                                                   os.environ["MAIL_FROM"])
            for name, value in push_settings.items():
                os.environ.setdefault(name, value)

        from chalice.local import (
            ChaliceRequestHandler,
            CustomLocalChalice,
            LocalChalice,
            LocalDevServer,
            ThreadedHTTPServer,
        )

        from app import app
        from chalicelib import errors

        unknown_path_status, unknown_path_body = unknown_path_response()

        class Handler(ChaliceRequestHandler):
            # Without this, keep-alive clients wait for Nagle's 40 ms delayed ACK on each request.
            disable_nagle_algorithm = True

            def __getattr__(self, name):
                """Methods no route has (TRACE, CONNECT, ...) get the API's 405 with Allow, like the
                ones Chalice knows, rather than http.server's HTML 501."""
                if name.startswith("do_"):
                    return self._other_method
                raise AttributeError(name)

            def _other_method(self):
                if frontend_file(self.path) is None:
                    return self._generic_handle()   # the app answers 405 with the route's methods
                self._parse_payload()   # read the body, so that the connection can serve the next request
                refused = errors.method_not_allowed(self.command, ["GET"])
                self._send_http_response(refused.status, {**refused.headers, "Content-Type": "application/json"},
                                         json.dumps(refused.body()))

            do_POST = do_PUT = do_PATCH = do_DELETE = _other_method

            def _send_error_response(self, error):
                # Chalice's local gateway marks "no route has this path" as API Gateway does.
                if error.headers.get("x-amzn-ErrorType") == "UnauthorizedException":
                    return self._send_http_response(unknown_path_status, {"Content-Type": "application/json"},
                                                    unknown_path_body)
                return super()._send_error_response(error)

            def do_GET(self):
                """The web frontend on the API's origin (production hosts it as static files)."""
                file = frontend_file(self.path)
                if file is None:
                    return super().do_GET()
                body = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                for name, value in FRONTEND_HEADERS.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadedHTTPServer):
            # socketserver listens with a backlog of 5: a burst of new connections (a load test's
            # users, a browser opening six at once while the process is busy) overflowed it, and
            # the kernel dropped the rest (clients saw resets or waited seconds to retry).
            request_queue_size = socket.SOMAXCONN

        # As `chalice local` does: each server thread gets its own current_request.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
        try:
            server = LocalDevServer(app, config, args.host, args.port, handler_cls=Handler, server_cls=Server)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            print(f"Port {args.port} on {args.host} is already in use: stop what uses it, or pick another "
                  f"port (PORT=8101 make run).", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        base = f"http://{args.host}:{args.port}"
        print(f"API on {base}  (OpenAPI: {base}/openapi.json)", flush=True)
        print(f"Web frontend: http://localhost:{args.port}/  (WebAuthn needs the name localhost, not the IP)",
              flush=True)
        if args.stage == "local":
            print(f"Dev mailbox: http://localhost:{args.port}/_dev/mailbox", flush=True)
        from chalicelib.config import get_settings

        if get_settings().outbox_delivery == "inline":
            start_outbox_sweeper()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for real_server in servers:
            real_server.stop()
    # The embedded AWS keeps its state in this process's memory, and the interpreter's exit
    # garbage-collects it object by object (minutes for a big one, which made SIGTERM look
    # ignored): nothing is left to clean up, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
