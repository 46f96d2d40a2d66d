#!/usr/bin/env python3
"""A client of the REST API in plain Python (standard library only).

It reads the OpenAPI document, finds each operation by its operationId (never by a hard-coded
path), and drives a whole account flow: sign-up, email verification, login, refresh from the
cookie, me, logout. Each step is checked; the last line printed is a JSON summary.

Usage: client_flow.py <base URL> <email> <password>

When it needs the emailed verification code it prints one JSON line
{"waiting_for": "code", ...} and reads the code from standard input.
"""

import base64
import http.cookiejar
import json
import sys
import urllib.error
import urllib.request


class ApiError(Exception):
    def __init__(self, status, envelope):
        self.status = status
        self.error = envelope.get("error", {})
        super().__init__(f"{status} {self.error.get('iamCode')}: {self.error.get('message')}")


class Client:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.operations = {}

    def load_document(self):
        document = self._send("GET", self.base_url + "/openapi.json", None, {})
        assert document["openapi"].startswith("3.1"), document["openapi"]
        server = document["servers"][0]["url"].rstrip("/")
        for path, item in document["paths"].items():
            for method, operation in item.items():
                self.operations[operation["operationId"]] = (method.upper(), server + path)
        return document

    def call(self, operation_id, body=None, token=None):
        method, url = self.operations[operation_id]
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return self._send(method, url, data, headers)

    def cookie(self, name):
        for cookie in self.jar:
            if cookie.name in (name, "__Host-" + name):
                return cookie.value
        return None

    def _send(self, method, url, data, headers):
        headers.setdefault("User-Agent", "iam-rest-example/1.0")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, json.loads(error.read().decode("utf-8"))) from None


def expect_refusal(call, status, iam_code):
    try:
        call()
    except ApiError as error:
        assert (error.status, error.error.get("iamCode")) == (status, iam_code), str(error)
        return iam_code
    raise AssertionError(f"expected {status} {iam_code}, got a result")


def session_id_of(access_token):
    """The `sid` claim of an access token (read, not verified: the service verifies it)."""
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


def wait_for_code(**context):
    print(json.dumps({"waiting_for": "code", **context}), flush=True)
    code = sys.stdin.readline().strip()
    assert code, "no code on standard input"
    return code


def main():
    base_url, email, password = sys.argv[1:4]
    client = Client(base_url)
    steps = []
    client.load_document()
    for needed in ("auth.signup", "auth.verifyEmail", "auth.login", "session.refresh", "auth.me", "auth.logout"):
        assert needed in client.operations, f"{needed} is not in the document"
    steps.append("document")

    signup = client.call("auth.signup", {"email": email, "password": password})
    assert signup["status"] == "verification_required", signup
    steps.append("signup")

    code = wait_for_code(purpose="verify_email", email=email)
    verified = client.call("auth.verifyEmail", {"challengeId": signup["challengeId"], "code": code})
    assert verified["status"] == "authenticated", verified
    assert verified["user"]["emailVerified"] is True, verified
    assert client.cookie("iam_cid"), "the device cookie is kept"
    steps.append("verifyEmail")

    # The same cookie jar, so the same device: a sign-in here is not challenged.
    login = client.call("auth.login", {"email": email, "password": password})
    challenged = login["status"] != "authenticated"
    if login["status"] == "mfa_required" and "email_otp" in login["methods"]:
        code = wait_for_code(purpose="sign_in", email=email)
        login = client.call("mfa.verify", {"challengeId": login["challengeId"], "code": code})
    assert login["status"] == "authenticated", login
    refresh_cookie = client.cookie("iam_rt")
    assert refresh_cookie, "a sign-in sets the refresh cookie"
    assert refresh_cookie not in json.dumps(login), "the refresh token is never in the body"
    steps.append("login")

    refreshed = client.call("session.refresh")
    assert refreshed["status"] == "authenticated", refreshed
    assert client.cookie("iam_rt") not in (None, refresh_cookie), "refresh rotates the cookie"
    token = refreshed["accessToken"]
    steps.append("refresh")

    me = client.call("auth.me", token=token)
    assert me["email"] == email and me["emailVerified"] is True, me
    steps.append("me")

    client.call("auth.logout", token=token)
    assert client.cookie("iam_rt") is None, "logout clears the refresh cookie"
    steps.append("logout")

    after = [
        expect_refusal(lambda: client.call("auth.me", token=token), 401, "SESSION_REVOKED"),
        expect_refusal(lambda: client.call("session.refresh"), 401, "REFRESH_TOKEN_INVALID"),
    ]
    steps.append("refused_after_logout")

    print(json.dumps({
        "ok": True,
        "steps": steps,
        "userId": me["id"],
        "challenged": challenged,
        "sessionId": session_id_of(token),
        "refusedAfterLogout": after,
        "operations": len(client.operations),
    }), flush=True)


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ApiError) as failure:
        print(json.dumps({"ok": False, "failure": str(failure)}), flush=True)
        sys.exit(1)
