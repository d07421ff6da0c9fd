"""Run a server in a private network namespace, reachable only through 127.0.0.1 on the host.

DynamoDB Local (and the DynamoDB Local that LocalStack starts) listens on every interface
and has no host option. Run inside `unshare -n` (root), such a server sees only its own
loopback; one of its ports is bridged to a free 127.0.0.1 port of the host through a Unix
socket, which crosses network namespaces. Nothing else can reach it.

    server = IsolatedServer(["java", ...], inner_port=8000, log=path)
    server.start(); ...; server.url; ...; server.stop()
"""
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _no_delay(connection: socket.socket) -> None:
    """Nagle off on the TCP ends: each side writes a request or answer in several pieces
    (headers, then body), and Nagle held the last one back until the delayed ACK (~40 ms)."""
    if connection.family in (socket.AF_INET, socket.AF_INET6):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _bridge(listener: socket.socket, connect) -> None:
    """Accept on `listener` forever; join each connection to a new one from `connect()`."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        for end in (client, upstream):
            _no_delay(end)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IsolatedServer:
    def __init__(self, command: list[str], inner_port: int, log: Path, env: dict | None = None,
                 cwd: str | None = None):
        self.command, self.inner_port, self.log, self.env, self.cwd = command, inner_port, log, env, cwd
        self.process: subprocess.Popen | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.mkdtemp(prefix="isolated-")
        self._socket_path = os.path.join(self._dir, "bridge.sock")
        self._listener: socket.socket | None = None

    def start(self) -> "IsolatedServer":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**(self.env if self.env is not None else os.environ),
               "ISOLATED_HOST_NETNS": os.readlink("/proc/self/ns/net")}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["unshare", "--net", sys.executable, __file__, self._socket_path, str(self.inner_port), "--",
                 *self.command],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.cwd, start_new_session=True)
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=_bridge, args=(self._listener, self._connect), daemon=True).start()
        return self

    def _connect(self) -> socket.socket:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self._socket_path)
        return upstream

    def wait_until(self, ready, timeout: float) -> None:
        """Poll `ready()` until it returns true; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        self.stop()
        raise RuntimeError(f"{self.command[0]} did not become ready; log {self.log}:\n{tail}")

    def stop(self) -> None:
        """Stop the whole process group (the server and anything it started), by PID."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Children that outlived the group leader (LocalStack's Java) share its group id.
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _kill_the_rest_of_this_namespace() -> None:
    """Whatever the server started and left behind (LocalStack's DynamoDB Local survives it,
    in a session of its own) shares only this network namespace: stop it by PID."""
    own = os.readlink("/proc/self/ns/net")
    if own == os.environ.get("ISOLATED_HOST_NETNS"):
        return  # not isolated after all: never sweep the host's processes
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/net") == own:
                os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass


def _inner(socket_path: str, port: int, command: list[str]) -> None:
    """Inside the namespace: loopback up, start the server, bridge the Unix socket to its port."""
    _loopback_up()
    server = subprocess.Popen(command)

    def stop(*_):
        server.terminate()
        try:
            server.wait(timeout=8)
        except subprocess.TimeoutExpired:
            server.kill()
        _kill_the_rest_of_this_namespace()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    threading.Thread(target=_bridge, args=(listener, lambda: socket.create_connection(("127.0.0.1", port))),
                     daemon=True).start()
    server.wait()
    _kill_the_rest_of_this_namespace()
    os._exit(server.returncode or 0)


if __name__ == "__main__":
    separator = sys.argv.index("--")
    _inner(sys.argv[1], int(sys.argv[2]), sys.argv[separator + 1:])
