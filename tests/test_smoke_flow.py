def test_signup_verify_enrol_logout_login(alice, api, clock):
    assert api.get("/v1/account").json["enrollment_required"] is False
    assert api.post("/v1/logout").status_code == 200
    assert api.get("/v1/account").status_code == 401
    verified = alice.login()
    assert verified.status_code == 200, verified.json
    assert api.get("/v1/account").json["email"] == "alice@example.com"
