"""The registry server's pages over HTTP: sign-in, sessions, CSRF, the gate, secrets never rendered.

A real `provisioner server start` on 127.0.0.1 (SQLite, then PostgreSQL); the browser test in
tests/browser drives the same pages in Chromium.
"""

from __future__ import annotations

import json
import re
from html import unescape
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.helpers import cli, cli_json
from tests.server.conftest import RunningServer

SECRETS = {"team-db": "hunter2-dashboard-db", "prod-key": "prod-secret-key-value-777", "tracker": "mlflow-pw-dashboard-42"}
ADMIN_ONLY = "stack 'prod' is restricted to admin; 'bob' may not use it"


def _run(stack: str, env: str, kind: str = "deploy", **extra: Any) -> dict[str, Any]:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    return {"stack": stack, "kind": kind, "recipe": "aws", "env": env, "region": "eu-west-1", "engine": "simulated",
            "simulated": True, "started_at": start.isoformat(), "finished_at": (start + timedelta(seconds=7)).isoformat(),
            "result": "succeeded", "counts": {"create": 66}, "monthly_cost_usd": 396.39, **extra}


def _team(server: RunningServer) -> str:
    """admin: a dev stack open to all (a tracker with a password) and a prod stack restricted to admin; bob, a member.

    Returns bob's token.
    """
    server.use(server.admin_token)
    added = cli("user", "add", "bob", "--role", "member", "--output", "json")
    assert added.exit_code == 0, added.stderr
    steps = [
        ("secret", "set", "--value-in-args", "team-db", f"password={SECRETS['team-db']}"),
        ("connector", "register", "prod-keys", "-t", "aws", "-a", "secret-key", "-c", "region=eu-west-1",
         "--value-in-args", "-c", "aws_access_key_id=AKIAPRODKEY", "-c", f"aws_secret_access_key={SECRETS['prod-key']}", "--env", "prod"),
        ("component", "register", "orch", "-t", "orchestrator", "-f", "local"),
        ("component", "register", "dev-art", "-t", "artifact_store", "-f", "local", "-c", "path=/tmp/dev"),
        ("component", "register", "dev-tracker", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=https://mlflow.dev",
         "-c", "tracking_username=admin", "--value-in-args", "-c", f"tracking_password={SECRETS['tracker']}"),
        ("stack", "register", "dev", "-c", "orch", "-c", "dev-art", "-c", "dev-tracker", "--env", "dev"),
        ("component", "register", "prod-art", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://prod", "--connector", "prod-keys"),
        ("stack", "register", "prod", "-c", "orch", "-c", "prod-art", "--env", "prod"),
        ("stack", "grant", "prod", "admin"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.stderr)
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"})
    for body in (_run("dev", "dev"), _run("prod", "prod"), _run("gone", "staging"),
                 _run("gone", "staging", "destroy", counts={"delete": 66}, monthly_cost_usd=None,
                      report={"clean": True, "deleted": [{"name": "gone-vpc", "type": "aws:ec2/vpc:Vpc"}], "kept": [],
                              "left_over": [], "left_over_monthly_cost": 0.0, "sweep_failure": None})):
        assert api.post(f"/api/v1/stacks/{body['stack']}/runs", json=body).status_code == 200
    token: str = json.loads(added.stdout)["token"]
    return token


class Browser:
    """A cookie-keeping HTTP client that signs in with the form, as a browser would."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False)

    def csrf(self, page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, page
        return found.group(1)

    def sign_in(self, token: str) -> httpx.Response:
        form = self.http.get("/login")
        return self.http.post("/login", data={"token": token, "csrf": self.csrf(form.text)})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data=data)


@pytest.fixture()
def team(server: RunningServer) -> tuple[RunningServer, str]:
    return server, _team(server)


def test_sign_in_gives_a_strict_http_only_session_and_pages_send_a_content_security_policy(team: tuple[RunningServer, str]) -> None:
    server, _bob = team
    browser = Browser(server.url)

    anonymous = browser.get("/stacks")
    signed = browser.sign_in(server.admin_token)
    page = browser.get("/stacks")

    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")
    assert (signed.status_code, signed.headers["location"]) == (303, "/stacks")
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("provisioner_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; over TLS the cookie is Secure
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script-src" not in page.headers["content-security-policy"]  # no script runs on these pages
    assert page.headers["cache-control"] == "no-store"


def test_a_bad_token_is_refused_with_the_reason_and_audited(team: tuple[RunningServer, str]) -> None:
    server, _bob = team
    browser = Browser(server.url)

    refused = browser.sign_in("pvt_not-a-real-token-000000000000000000000")

    assert refused.status_code == 401
    assert "the server does not know this token" in refused.text
    server.use(server.admin_token)
    denials = [(e["user"], e["action"], e["result"]) for e in cli_json("audit") if e["action"] == "web.login"]
    assert denials == [("anonymous", "web.login", "denied")]


def test_forms_without_their_csrf_token_are_refused(team: tuple[RunningServer, str]) -> None:
    server, _bob = team
    browser = Browser(server.url)
    no_csrf_login = browser.post("/login", {"token": server.admin_token})
    browser.sign_in(server.admin_token)

    no_csrf_logout = browser.post("/logout", {})
    still_in = browser.get("/stacks")
    forged_reveal = browser.post("/components/dev-tracker/reveal", {"key": "tracking_password", "csrf": "forged"})

    assert no_csrf_login.status_code == 403 and "session" not in no_csrf_login.headers.get("set-cookie", "")
    assert no_csrf_logout.status_code == 403 and "CSRF token is missing or wrong" in no_csrf_logout.text
    assert still_in.status_code == 200
    assert forged_reveal.status_code == 403 and SECRETS["tracker"] not in forged_reveal.text


def test_sign_out_ends_the_session_and_so_do_revoking_the_token_and_disabling_the_user(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    admin, member, other = Browser(server.url), Browser(server.url), Browser(server.url)
    admin.sign_in(server.admin_token)
    member.sign_in(bob)
    stale_cookie = dict(admin.http.cookies)

    admin.post("/logout", {"csrf": admin.csrf(admin.get("/stacks").text)})
    after_sign_out = admin.get("/stacks")
    replayed = httpx.get(f"{server.url}/stacks", cookies=stale_cookie)
    server.use(server.admin_token)
    assert cli("user", "disable", "bob").exit_code == 0
    disabled = member.get("/stacks")
    assert cli("user", "enable", "bob").exit_code == 0
    other.sign_in(bob)
    assert other.get("/stacks").status_code == 200
    assert cli("user", "revoke-token", "bob").exit_code == 0
    revoked = other.get("/stacks")

    assert [r.status_code for r in (after_sign_out, replayed, disabled, revoked)] == [303, 303, 303, 303]
    assert all(r.headers["location"].startswith("/login") for r in (after_sign_out, replayed, disabled, revoked))


def test_a_member_sees_only_the_stacks_they_may_and_a_restricted_stack_is_403_and_audited(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    member = Browser(server.url)
    member.sign_in(bob)

    stacks = member.get("/stacks").text
    refused = member.get("/stacks/prod")
    history_refused = member.get("/stacks/prod", params={"x": "1"})

    assert 'href="/stacks/dev"' in stacks and 'href="/stacks/gone"' in stacks
    assert "/stacks/prod" not in stacks and "prod-art" not in stacks
    assert refused.status_code == 403 and f"reading stacks: {ADMIN_ONLY}" in unescape(refused.text)
    assert history_refused.status_code == 403
    server.use(server.admin_token)
    denied = [(e["user"], e["action"], e["target"]) for e in cli_json("audit", "--user", "bob") if e["result"] == "denied"]
    assert denied == [("bob", "stack.read", "prod"), ("bob", "stack.read", "prod")]
    audit_page = Browser(server.url)
    audit_page.sign_in(server.admin_token)
    listed = unescape(audit_page.get("/audit", params={"user": "bob", "result": "denied"}).text)
    assert listed.count(f"reading stacks: {ADMIN_ONLY}") == 2 and "Hash chain: intact" in listed


def test_the_stacks_page_groups_by_env_and_keeps_destroyed_stacks_with_their_teardown(team: tuple[RunningServer, str]) -> None:
    server, _bob = team
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"})
    check = _run("dev", "dev", "drift", counts={"drifted": 2}, monthly_cost_usd=None)
    check["started_at"] = check["finished_at"] = "2026-12-02T09:00:00+00:00"
    assert api.post("/api/v1/stacks/dev/runs", json=check).status_code == 200
    admin = Browser(server.url)
    admin.sign_in(server.admin_token)

    prod_only = admin.get("/stacks", params={"env": "prod"}).text
    everything = admin.get("/stacks").text
    gone = admin.get("/stacks/gone").text

    assert 'href="/stacks/prod"' in prod_only and 'href="/stacks/dev"' not in prod_only
    sections = re.findall(r'<h2 id="(env-[a-z]+|destroyed)"', everything)
    assert sections == ["env-dev", "env-staging", "env-prod", "destroyed"]
    assert everything.index('href="/stacks/gone"') > everything.index('id="destroyed"')
    assert "$396.39/month" in everything
    dev_row = re.search(r'href="/stacks/dev".*?</tr>', everything, re.DOTALL)
    prod_row = re.search(r'href="/stacks/prod".*?</tr>', everything, re.DOTALL)
    assert dev_row and "2 changed outside" in dev_row.group(0)
    assert prod_row and "not checked since the last deploy" in prod_row.group(0)
    assert "destroyed" in gone and "gone-vpc" in gone and "66 delete" in gone and "66 create" in gone


def test_no_page_renders_a_secret_value_and_reveal_shows_one_once_to_those_allowed(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    admin, member = Browser(server.url), Browser(server.url)
    admin.sign_in(server.admin_token)
    member.sign_in(bob)

    pages = [admin.get(path).text for path in ("/stacks", "/stacks/dev", "/stacks/prod", "/stacks/gone", "/audit")]
    pages += [member.get(path).text for path in ("/stacks", "/stacks/dev", "/audit")]
    dev_page = admin.get("/stacks/dev").text
    revealed = admin.post("/components/dev-tracker/reveal", {"key": "tracking_password", "csrf": admin.csrf(dev_page)})
    member_reveal = member.post("/components/prod-art/reveal", {"key": "path", "csrf": member.csrf(member.get("/stacks").text)})

    assert not [name for name, value in SECRETS.items() for page in pages if value in page]
    assert "{{secret:component-dev-tracker.tracking_password}}" in dev_page  # shown as a reference
    assert revealed.status_code == 200 and SECRETS["tracker"] in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    assert member_reveal.status_code == 403 and "restricted to admin" in unescape(member_reveal.text)
    server.use(server.admin_token)
    reads = [(e["user"], e["action"], e["target"], e["result"]) for e in cli_json("audit") if e["action"] == "component.read-secrets"]
    assert reads == [("admin", "component.read-secrets", "dev-tracker", "ok"), ("bob", "component.read-secrets", "prod-art", "denied")]
