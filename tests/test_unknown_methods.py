"""The served API (`make run`'s program) answers a method a path does not have, known to
Chalice (PUT) or not (TRACE, CONNECT, an invented one), with the API's 405: {error:
method_not_allowed, message} and an Allow header naming the path's methods. Over real HTTP:
http.server, not the app, decides what an unknown method gets."""
import http.client
from urllib.parse import urlsplit

import pytest

from tests.support.servers import serve_locally


@pytest.fixture(scope="module")
def served():
    with serve_locally("embedded") as url:
        yield url


def send(base_url: str, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def documented_methods(base_url: str, path: str) -> set[str]:
    import requests

    return {m.upper() for m in requests.get(base_url + "/openapi.json", timeout=10).json()["paths"][path]}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW", "PUT"])
@pytest.mark.parametrize("path", ["/v1/login", "/v1/account/sessions", "/v1/account/methods/{method_id}"])
def test_a_method_the_path_lacks_gets_the_api_405_with_allow(served, method, path):
    import json

    status, headers, body = send(served, method, path.replace("{method_id}", "abc"), b'{"a": 1}')
    assert status == 405
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["error"] == "method_not_allowed" and method in answer["message"]
    allowed = {m.strip() for m in headers["allow"].split(",")}
    # OPTIONS is the CORS preflight every path has.
    assert allowed == documented_methods(served, path) | {"OPTIONS"}


@pytest.mark.parametrize("method", ["TRACE", "POST", "DELETE", "BREW"])
def test_the_frontend_pages_answer_other_methods_405_allow_get(served, method):
    import json

    status, headers, body = send(served, method, "/", b"ignored")
    assert status == 405 and headers["allow"] == "GET"
    assert json.loads(body)["error"] == "method_not_allowed"


def test_the_connection_serves_the_next_request_after_a_405(served):
    address = urlsplit(served)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        for method in ("TRACE", "POST", "GET"):
            connection.request(method, "/", body=b"x" * 100)
            response = connection.getresponse()
            response.read()
            assert response.status == (200 if method == "GET" else 405)
    finally:
        connection.close()
