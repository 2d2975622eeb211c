"""Headless Chromium for the console tests: Debian's ``chromium`` and ``chromium-driver``
driven by selenium. A missing browser fails the run (``.ci/run`` installs both); it never
skips."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.chromium import CHROMIUM_FLAGS, find_chromium

# /dev/shm is small in containers.
BROWSER_FLAGS = (*CHROMIUM_FLAGS, "--disable-dev-shm-usage")
WAIT_SECONDS = 20


def browser_binaries() -> tuple[str, str]:
    """The Chromium and chromedriver executables; fails the test when either is missing."""
    chromium = find_chromium()
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(
            "the console tests need Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver; .ci/run installs them)"
        )
    return chromium, driver


def start_chromium(profile: Path, width: int = 1280, height: int = 900) -> WebDriver:
    """A fresh headless Chromium with its own profile directory (no state between tests)."""
    chromium, driver = browser_binaries()
    # Selenium Manager must not try to download a driver: we name ours.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--lang=en-US")
    # The page's console messages (CSP violations, script errors) go into failure messages.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    if width < 500:  # a headless window is at least 500 px wide: emulate a phone's viewport
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
        )
    return browser


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    # A form POST navigates: while the old page goes, reading a found element can fail with a
    # stale element or Chromium's "node does not belong to the document". Both are passing
    # states of a page in flight, so the wait polls on until its condition holds or times out.
    return WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,))


def _page(driver: WebDriver) -> str:
    mains = driver.find_elements(By.TAG_NAME, "main")
    shown = mains[0].text[:2000] if mains else driver.page_source[:2000]
    messages = [entry["message"] for entry in driver.get_log("browser")]
    return f"{driver.current_url}\n{shown}\nbrowser console: {messages}"


def visible(driver: WebDriver, css: str) -> WebElement:
    try:
        found: WebElement = wait(driver).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, css))
        )
    except TimeoutException:
        pytest.fail(f"{css} never became visible on {_page(driver)}")
    return found


def text_in(driver: WebDriver, css: str, text: str) -> None:
    try:
        wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    except TimeoutException:
        shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]
        pytest.fail(f"{text!r} never appeared in {css} (it shows {shown}) on {_page(driver)}")


def sign_in(driver: WebDriver, base_url: str, token: str) -> None:
    driver.get(f"{base_url}/console/")
    visible(driver, "#token").send_keys(token)
    driver.find_element(By.ID, "signin-button").click()
    wait(driver).until(
        lambda d: d.find_elements(By.ID, "signout") or d.find_elements(By.CSS_SELECTOR, "h1")
    )
    if not driver.find_elements(By.ID, "signout"):
        pytest.fail(f"sign-in failed: {_page(driver)}")


def press(driver: WebDriver, keys: str) -> None:
    """Type keys into the page (not into a field)."""
    webdriver.ActionChains(driver).send_keys(keys).perform()
