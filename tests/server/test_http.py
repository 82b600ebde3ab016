"""HTTP transport against a real `cancelmatch serve` process, over raw sockets.

Each test is a defect the standard-library server had: chunked bodies read as empty (and
poisoning the next request), ``Content-Length: -1`` streaming past the limit, ``abc``
dropping the connection with a traceback, stalled and idle connections held forever, TRACE
answered with an HTML page, 405 without ``Allow``, 401 without ``WWW-Authenticate``. Every
answer must be JSON. Time bounds below are liveness bounds, never performance claims.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h11
import pytest
from server_support import ServerProcess

LIMIT = 64 * 1024
BASE = ("--http-max-body-bytes", str(LIMIT), "--http-read-timeout", "1",
        "--http-idle-timeout", "1")
BODY = json.dumps({"app_id": "acme-app", "function_id": "nobody-synced-me",
                   "started_before": "2024-01-01T00:00:00Z"}).encode()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("http") / "data", *BASE).start()
    yield proc
    proc.cleanup()


def connect(srv: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.http_port), timeout=30)
    sock.settimeout(30)
    return sock


def responses(sock: socket.socket, count: int = 1) -> list[tuple[int, dict[str, str], Any]]:
    """Read up to ``count`` responses (fewer if the server closes): (status, headers, JSON)."""
    conn, out = h11.Connection(h11.CLIENT), []
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))  # client state
    conn.send(h11.EndOfMessage())
    status, headers, body = 0, {}, b""
    while len(out) < count:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            body = b""
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert headers["content-type"] == "application/json", headers
            out.append((status, headers, json.loads(body)))
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                break
            conn.start_next_cycle()
            conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
            conn.send(h11.EndOfMessage())
        elif isinstance(event, h11.ConnectionClosed):
            break
    return out


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed the connection (reads until EOF, within the socket timeout)."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def peak_rss_kib(srv: ServerProcess) -> int:
    assert srv.proc is not None
    for line in Path(f"/proc/{srv.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def request(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_chunked_body_is_read_and_the_connection_stays_usable(srv: ServerProcess) -> None:
    with connect(srv) as sock:
        sock.sendall(request("POST", "/v1/cancellations", "Transfer-Encoding: chunked",
                             "Content-Type: application/json", body=chunked(BODY))
                     + request("GET", "/healthz"))
        (first, second) = responses(sock, 2)
    # The body was read (the function is looked up, so every field arrived), and the
    # next request on the same connection was not poisoned by leftover bytes.
    assert first[0] == 404 and first[2] == {"error": "function not found", "data": None,
                                            "status": 404}
    assert second[:1] == (200,) and second[2] == {"status": "ok"}


@pytest.mark.parametrize("framing", ["chunked", "declared"])
def test_bodies_over_the_limit_are_413_and_never_buffered(srv: ServerProcess,
                                                          framing: str) -> None:
    before = peak_rss_kib(srv)
    total = 32 * 1024 * 1024
    header = ("Transfer-Encoding: chunked" if framing == "chunked"
              else f"Content-Length: {total}")
    with connect(srv) as sock:
        sock.sendall(request("POST", "/v1/cancellations", header))
        block = b"x" * 65536
        frame = chunked(block, len(block))[:-5] if framing == "chunked" else block
        try:
            for _ in range(total // len(block)):
                sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: it stopped reading, as it should
        ((status, headers, body),) = responses(sock)
    assert status == 413 and headers["connection"] == "close"
    assert body["error"].endswith(f"the limit is {LIMIT} (--http-max-body-bytes)") or \
        body["error"] == f"request body is over the limit of {LIMIT} bytes (--http-max-body-bytes)"
    assert peak_rss_kib(srv) - before < 16 * 1024  # 32 MiB sent; nowhere near held


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", " 12x"])
def test_malformed_content_length_is_a_json_400(srv: ServerProcess, length: str) -> None:
    with connect(srv) as sock:
        sock.sendall(request("POST", "/v1/cancellations", f"Content-Length: {length}",
                             body=b"x" * 300_000))
        ((status, headers, body),) = responses(sock)
        assert closed_by_server(sock)
    assert (status, headers["connection"]) == (400, "close")
    assert body["error"].startswith("malformed HTTP request")
    assert "Traceback" not in srv.log_path.read_text()


def test_content_length_larger_than_sent_times_out_with_408(srv: ServerProcess) -> None:
    with connect(srv) as sock:
        sock.sendall(request("POST", "/v1/cancellations", "Content-Length: 100",
                             body=b'{"app_id": '))
        started = time.monotonic()
        ((status, headers, body),) = responses(sock)
        assert closed_by_server(sock)
    assert time.monotonic() - started < 20  # the read timeout is 1 s
    assert (status, headers["connection"]) == (408, "close")
    assert body["error"] == "the request did not arrive within 1 s (--http-read-timeout)"


def test_content_length_smaller_than_sent_never_poisons_silently(srv: ServerProcess) -> None:
    with connect(srv) as sock:
        sock.sendall(request("POST", "/v1/cancellations", "Content-Length: 2", body=b"{}")
                     + b'"app_id": "x"}\r\n\r\n')
        answers = responses(sock, 2)
        assert closed_by_server(sock)
    assert answers[0][0] == 400 and answers[0][2]["error"].startswith("app_id is required")
    # The surplus bytes are read as the next request: malformed, answered in JSON, closed.
    assert [a[0] for a in answers[1:]] in ([400], [])


def test_stalled_and_idle_connections_are_closed(srv: ServerProcess) -> None:
    idle = [connect(srv) for _ in range(40)]
    partial = [connect(srv) for _ in range(40)]
    for sock in partial:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    kept_alive = connect(srv)
    kept_alive.sendall(request("GET", "/healthz"))
    assert responses(kept_alive)[0][0] == 200
    started = time.monotonic()
    for sock in [*idle, *partial, kept_alive]:
        with sock:
            assert closed_by_server(sock)
    assert time.monotonic() - started < 25  # read and idle timeouts are 1 s


@pytest.mark.parametrize(("method", "target", "status"), [
    ("TRACE", "/v1/cancellations", 405), ("TRACE", "/", 404), ("FOO", "/metrics", 405),
    ("OPTIONS", "/v1/cancellations/01J00000000000000000000000", 405),
    ("GET", "/v1/cancellations/", 404),
])
def test_unknown_methods_and_paths_are_json(srv: ServerProcess, method: str, target: str,
                                            status: int) -> None:
    with connect(srv) as sock:
        sock.sendall(request(method, target))
        ((got, headers, body),) = responses(sock)
    assert got == status and body["status"] == status
    if status == 405:
        assert set(headers["allow"].split(", ")) <= {"GET", "HEAD", "POST", "DELETE"}
        assert method not in headers["allow"]


def test_401_names_the_scheme(tmp_path: Path, server_factory: Any) -> None:
    proc = server_factory("--signing-key", "signkey-prod-abc", data_dir=tmp_path / "auth")
    with socket.create_connection(("127.0.0.1", proc.http_port), timeout=30) as sock:
        sock.sendall(request("GET", "/v1/cancellations"))
        ((status, headers, body),) = responses(sock)
    assert (status, headers["www-authenticate"]) == (401, 'Bearer realm="cancelmatch"')
    assert body == {"error": "unauthorized: send 'Authorization: Bearer <signing key>'",
                    "data": None, "status": 401}


def test_connections_past_the_cap_get_a_json_503(tmp_path: Path, server_factory: Any) -> None:
    proc = server_factory("--http-max-connections", "3", "--http-read-timeout", "30",
                          data_dir=tmp_path / "cap")
    held = [socket.create_connection(("127.0.0.1", proc.http_port), timeout=30)
            for _ in range(3)]
    try:
        time.sleep(0.5)  # let the server accept them (the count is of open connections)
        with socket.create_connection(("127.0.0.1", proc.http_port), timeout=30) as extra:
            extra.sendall(request("GET", "/healthz"))
            ((status, headers, body),) = responses(extra)
        assert (status, headers["connection"]) == (503, "close")
        assert body["error"].startswith("too many open connections (the limit is 3")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # once they are gone, requests are served again
        with socket.create_connection(("127.0.0.1", proc.http_port), timeout=30) as again:
            again.sendall(request("GET", "/healthz"))
            if responses(again)[0][0] == 200:
                return
        time.sleep(0.1)
    raise AssertionError("still refused after the held connections closed")


def test_every_rejection_is_logged_with_status_and_reason(srv: ServerProcess) -> None:
    offset = srv.log_path.stat().st_size
    bad = [request("GET", "/nope"), request("TRACE", "/healthz"),
           request("POST", "/v1/cancellations", f"Content-Length: {LIMIT + 1}"),
           request("POST", "/v1/cancellations", "Content-Length: abc"),
           request("POST", "/v1/cancellations", "Content-Length: 5")]  # body never sent: 408
    for raw in bad:
        with connect(srv) as sock:
            sock.sendall(raw)
            responses(sock)
    deadline, statuses = time.monotonic() + 30, set()
    while time.monotonic() < deadline and statuses != {400, 404, 405, 408, 413}:
        rejected = [e for e in srv.log_lines(offset) if e.get("msg") == "rejected"]
        statuses = {e["status"] for e in rejected}
        time.sleep(0.05)
    assert statuses == {400, 404, 405, 408, 413}
    assert all(e["reason"] and e["level"] == "info" for e in rejected)
