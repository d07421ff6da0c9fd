"""Behind CloudFront, API Gateway's sourceIp is CloudFront's edge, shared by many viewers: with
BEHIND_CLOUDFRONT set, per-IP limits count the viewer's address from CloudFront-Viewer-Address
(forwarded by the origin request policy docs/runbook.md names); without it the header is
ignored, as any caller could send it."""
import pytest

from chalicelib.api.http import viewer_ip

WRONG = "not the password at all"


@pytest.fixture
def limit_two_per_ip(monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("LOGIN_LIMIT_PER_IP", "2")
    get_settings.cache_clear()
    return monkeypatch


def wrong_login(api, n: int, viewer: str):
    # Every request arrives from the same edge (the test client's sourceIp, 127.0.0.1).
    return api.post("/v1/login", {"email": f"user{n}@example.com", "password": WRONG},
                    headers={"cloudfront-viewer-address": viewer})


def test_behind_cloudfront_per_ip_limits_count_each_viewer(api, limit_two_per_ip):
    from chalicelib.config import get_settings

    limit_two_per_ip.setenv("BEHIND_CLOUDFRONT", "true")
    get_settings.cache_clear()
    assert [wrong_login(api, n, "198.51.100.10:46532").status_code for n in range(3)] == [401, 401, 429]
    assert wrong_login(api, 3, "203.0.113.7:1024").status_code == 401   # another viewer, same edge
    assert wrong_login(api, 4, "2001:db8::1:443").status_code == 401
    assert wrong_login(api, 5, "198.51.100.10:50000").status_code == 429   # the first viewer, another port


def test_without_behind_cloudfront_the_header_is_not_trusted(api, limit_two_per_ip):
    assert [wrong_login(api, n, f"198.51.100.{n}:1").status_code for n in range(3)] == [401, 401, 429]


@pytest.mark.parametrize("header, ip", [
    ("198.51.100.10:46532", "198.51.100.10"),
    ("2001:db8:3333:4444:5555:6666:7777:8888:46532", "2001:db8:3333:4444:5555:6666:7777:8888"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("", None), ("unknown:1", None), ("198.51.100.10", None),
])
def test_the_viewer_address_is_read_without_its_port(header, ip):
    assert viewer_ip(header) == ip
