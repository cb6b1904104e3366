"""The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium through /usr/bin/chromedriver.

A real `provisioner server start` on 127.0.0.1; an admin in client mode deploys a simulated aws-staging,
kubernetes-dev and aws-prod (granted to the admin only) against a moto server; then an admin and a
member use the pages. Screenshots go to the test's folder, and to docs/screenshots when
PROVISIONER_UPDATE_SCREENSHOTS=1 (the README embeds the desktop ones).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli, cli_json, deploy_cli
from tests.server.conftest import RunningServer, start_server, stop_server

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
DESKTOP, PHONE = (1280, 800), (390, 844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture()
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                     f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def deployed(aws_endpoint: str, tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    """The server (started after moto, so verify reaches it), three simulated stacks, and bob's member token."""
    os.environ.pop("PROVISIONER_STORE_URL", None)
    server = start_server(f"sqlite:///{tmp_path / 'registry.db'}", tmp_path / "server-home")
    try:
        server.use(server.admin_token)
        for args in (("aws", "--env", "staging", "--simulate"), ("kubernetes", "--env", "dev", "--simulate", "--context", "kind-dev"),
                     ("aws", "--env", "prod", "--simulate", "--yes")):
            result = deploy_cli(*args)
            assert result.exit_code == 0, (args, result.stderr)
        assert cli("stack", "grant", "aws-prod", "admin").exit_code == 0
        added = cli("user", "add", "bob", "--role", "member", "--output", "json")
        assert added.exit_code == 0, added.stderr
        yield server, json.loads(added.stdout)["token"]
    finally:
        stop_server(server)


def _secret_values() -> list[str]:
    """Every secret value the registry holds (read as the admin), at least 6 characters long."""
    values = []
    for secret in cli_json("secret", "list"):
        detail = cli_json("secret", "describe", secret["name"], "--show-secrets")
        values.extend(str(v) for v in detail["values"].values() if len(str(v)) >= 6)
    return values


def _click_and_wait(driver: Any, css: str) -> None:
    """Click what ``css`` finds and wait until the next page has replaced this one (Chromium navigates asynchronously)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(page))


def _sign_in(driver: Any, url: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login")
    driver.find_element(By.ID, "token").send_keys(token)
    _click_and_wait(driver, "form[action='/login'] button[type=submit]")


def _shoot(driver: Any, name: str, size: tuple[int, int], folder: Path) -> Path:
    driver.set_window_size(*size)
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("PROVISIONER_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)
    driver.set_window_size(*DESKTOP)
    return path


def test_admin_and_member_use_the_dashboard_in_chromium(deployed: tuple[RunningServer, str], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server, bob = deployed
    sources: list[str] = []

    # The admin sees every stack, by env.
    _sign_in(browser, server.url, server.admin_token)
    stack_links = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "table th[scope=row] a")}
    sources.append(browser.page_source)
    shots = [_shoot(browser, "stacks-desktop", DESKTOP, tmp_path), _shoot(browser, "stacks-phone", PHONE, tmp_path)]
    assert stack_links == {"aws-staging", "kubernetes-dev", "aws-prod"}
    assert browser.find_element(By.ID, "env-prod").text.startswith("prod")

    # aws-staging: components, connector, deployment and cost.
    _click_and_wait(browser, "a[href='/stacks/aws-staging']")
    page = browser.find_element(By.TAG_NAME, "main").text
    sources.append(browser.page_source)
    shots += [_shoot(browser, "stack-desktop", DESKTOP, tmp_path), _shoot(browser, "stack-phone", PHONE, tmp_path)]
    assert "artifact_store: aws-staging-artifacts (s3)" in page and "experiment_tracker: aws-staging-tracker (mlflow)" in page
    assert "aws-staging-aws (aws, iam-role)" in page
    history = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=history] tbody tr").text
    assert "deploy (simulated) admin succeeded" in history and "66 create" in history and "/month" in history

    # Verify the connector: the server assumes its role on the moto server and checks what it reaches.
    _click_and_wait(browser, "form[action$='/connectors/aws-staging-aws/verify'] button")
    verdict = browser.find_element(By.CSS_SELECTOR, ".verify").text
    sources.append(browser.page_source)
    assert verdict.startswith("Verification passed as arn:aws:sts::123456789012:assumed-role/")
    assert "aws-staging-artifacts-bucket" in verdict and "yes" in verdict

    _click_and_wait(browser, "form.signout button")
    assert browser.current_url.endswith("/login")

    # bob, a member: kubernetes-dev yes, the prod stack restricted to admin no; its URL is a 403, audited.
    _sign_in(browser, server.url, bob)
    member_links = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "table th[scope=row] a")}
    sources.append(browser.page_source)
    browser.get(f"{server.url}/stacks/aws-prod")
    refusal = browser.find_element(By.TAG_NAME, "main").text
    sources.append(browser.page_source)
    assert member_links == {"aws-staging", "kubernetes-dev"}
    assert "Not allowed" in refusal and "stack 'aws-prod' is restricted to admin; 'bob' may not use it" in refusal
    _click_and_wait(browser, "form.signout button")

    _sign_in(browser, server.url, server.admin_token)
    browser.get(f"{server.url}/audit?user=bob&result=denied")
    audit_rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")]
    sources.append(browser.page_source)
    assert len(audit_rows) == 1 and "bob stack.read aws-prod denied" in audit_rows[0]

    server.use(server.admin_token)
    secrets = _secret_values()
    assert secrets  # the MLflow passwords and the database's, at least
    assert not [value for value in secrets for source in sources if value in source]
    assert all(path.stat().st_size > 10_000 for path in shots)
