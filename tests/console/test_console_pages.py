"""The console at laptop and phone width: long queues load more without a reload, every
control has a label, nothing overflows a phone screen; and the screenshots in docs/console.md
(``make console-screenshots`` writes them there; ``make test`` into a temporary folder)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from service.console.forms import PAGE_SIZE
from service.usecases.console import dashboard
from service.usecases.services import Services
from service.usecases.sites import authenticate_moderator, create_moderator
from tests.conftest import auth, comment_body, wait_for_final
from tests.console.browser import press, sign_in, start_chromium, text_in, visible
from tests.console.conftest import HINDI_ABUSE, TWO_LINKS, ConsoleServer, Desk, held

pytestmark = pytest.mark.integration

SCREENSHOTS_ENV = "COMMENTMOD_CONSOLE_SCREENSHOTS"


def submit_many(server: ConsoleServer, desk: Desk, texts: list[str]) -> list[str]:
    """Submit every text first, then wait for each decision (the worker runs them together)."""
    ids = []
    for text in texts:
        r = requests.post(
            f"{server.url}/v1/comments",
            json=comment_body(text=text),
            headers=auth(desk.api_key),
            timeout=10,
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    for comment_id in ids:
        assert wait_for_final(server.url, desk.api_key, comment_id, timeout=120)["status"] == "held"
    return ids


def unlabelled_controls(driver: WebDriver) -> list[str]:
    found: list[str] = driver.execute_script(
        """
        return Array.from(document.querySelectorAll("input, select, textarea, button"))
          .filter(el => el.type !== "hidden")
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                        && !(el.tagName === "BUTTON" && el.textContent.trim()))
          .map(el => el.outerHTML.slice(0, 80));
        """
    )
    return found


def test_a_long_queue_loads_more_in_place(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    ids = submit_many(
        console_server, desk, [TWO_LINKS.format(uuid.uuid4().hex[:8]) for _ in range(PAGE_SIZE + 2)]
    )
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/?site={desk.slug}")
    visible(chrome, f'article.item[data-id="{ids[PAGE_SIZE - 1]}"]')
    assert len(chrome.find_elements(By.CSS_SELECTOR, "article.item")) == PAGE_SIZE
    chrome.execute_script("window.__same_page = true")
    chrome.find_element(By.ID, "more").click()
    visible(chrome, f'article.item[data-id="{ids[-1]}"]')
    shown = [
        e.get_attribute("data-id") for e in chrome.find_elements(By.CSS_SELECTOR, "article.item")
    ]
    assert shown == ids  # oldest first, every item once
    assert chrome.execute_script("return window.__same_page") is True  # no reload
    assert not chrome.find_elements(By.ID, "more")
    # The keys keep working on the loaded items.
    press(chrome, "j" * (PAGE_SIZE + 1))
    visible(chrome, f'article.item.current[data-id="{ids[-1]}"]')


def test_phone_width_and_labels(
    services: Services, console_server: ConsoleServer, desk: Desk, tmp_path: Path
) -> None:
    held(console_server, desk, text=HINDI_ABUSE)
    phone = start_chromium(tmp_path / "phone", width=390, height=844)
    try:
        sign_in(phone, console_server.url, desk.token)
        for path in ("/console/", f"/console/sites/{desk.slug}/policy", "/console/dashboard"):
            phone.get(f"{console_server.url}{path}")
            visible(phone, "main h1")
            assert unlabelled_controls(phone) == [], path
            overflow = phone.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
    finally:
        phone.quit()


def test_screenshots_of_the_main_pages(
    services: Services, console_server: ConsoleServer, tmp_path: Path
) -> None:
    out = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    desk, approved = _demo_desk(services, console_server)
    moderator = authenticate_moderator(services, desk.token)
    assert moderator is not None
    board = dashboard(services, moderator)
    assert [(q.held, q.oldest_at is not None) for q in board.queue] == [(2, True)]
    assert sum(n for _, n in board.decisions_per_day) == 2
    spam_hi = next(o for o in board.overturns if (o.check, o.lang) == ("spam", "hi"))
    # The Hindi comment with two links: spam suspected, approved by the moderator.
    assert (spam_hi.decided, spam_hi.flagged, spam_hi.approved_flagged) == (1, 1, 1)
    shots: list[Path] = []
    laptop = start_chromium(tmp_path / "laptop", width=1100, height=800)
    try:
        laptop.get(f"{console_server.url}/console/signin")
        visible(laptop, "#token")
        shots.append(_shot(laptop, out / "signin.png"))
        sign_in(laptop, console_server.url, desk.token)
        laptop.get(f"{console_server.url}/console/?site={desk.slug}")
        visible(laptop, "article.item.current")
        shots.append(_shot(laptop, out / "queue.png"))
        press(laptop, "?")
        visible(laptop, "dialog#keys")
        shots.append(_shot(laptop, out / "keys.png"))
        laptop.find_element(By.CSS_SELECTOR, "dialog#keys button").click()
        press(laptop, "o")
        visible(laptop, "#audit")
        laptop.get(f"{console_server.url}/console/comments/{approved}")
        text_in(laptop, "#audit", "held → published")
        shots.append(_shot(laptop, out / "detail.png"))
        laptop.get(f"{console_server.url}/console/sites/{desk.slug}/policy")
        visible(laptop, "#save-policy")
        shots.append(_shot(laptop, out / "policy.png"))
        laptop.get(f"{console_server.url}/console/dashboard")
        visible(laptop, "#overturns")
        shots.append(_shot(laptop, out / "dashboard.png"))
    finally:
        laptop.quit()
    phone = start_chromium(tmp_path / "phone", width=390, height=800)
    try:
        sign_in(phone, console_server.url, desk.token)
        phone.get(f"{console_server.url}/console/?site={desk.slug}&lang=hi")
        visible(phone, "article.item mark.ev-abuse")
        phone.execute_script("document.querySelector('article.item').scrollIntoView()")
        shots.append(_shot(phone, out / "queue-phone.png"))
    finally:
        phone.quit()
    for shot in shots:
        assert shot.read_bytes().startswith(b"\x89PNG"), shot


def _shot(driver: WebDriver, path: Path) -> Path:
    assert driver.save_screenshot(str(path)), path
    return path


def _demo_desk(services: Services, server: ConsoleServer) -> tuple[Desk, str]:
    """A newsroom desk with a Hindi abuse hold, a phone-number hold, a Hinglish insult,
    a policy version and two decisions (so the dashboard has numbers); returns the desk and
    the approved comment's id."""
    from service.usecases.sites import create_site

    site, key = create_site(services, f"dainik-{uuid.uuid4().hex[:4]}", "Dainik Samachar")
    moderator_id, token = create_moderator(services, "Meera", [site.slug])
    desk = Desk(site.slug, key, moderator_id, token)
    texts = [
        "बहुत अच्छा लेख, धन्यवाद। पूरी रिपोर्ट यहाँ: https://example.org/a और https://example.net/b",
        "Mere vaarta ke liye contact: 9876543210",
        HINDI_ABUSE,
        "tu bewakoof hai, ye article bakwas hai",
    ]
    decided = [held(server, desk, text=text) for text in texts[:2]]
    for text in texts[2:]:
        held(server, desk, text=text)
    for comment_id, action in zip(decided, ("approve", "spam"), strict=True):
        r = requests.post(
            f"{server.url}/v1/moderation/comments/{comment_id}/decision",
            json=(
                {"action": action, "reason": "false_positive", "note": "संदर्भ के लिंक हैं, स्पैम नहीं"}
                if action == "approve"
                else {"action": action}
            ),
            headers=auth(token),
            timeout=10,
        )
        assert r.status_code == 200, r.text
    r = requests.put(
        f"{server.url}/v1/moderation/sites/{site.slug}/policy",
        json={"blocked_words": ["कमल", "tamatar"], "watched_words": ["दलाल"], "max_links": 3},
        headers=auth(token),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return desk, decided[0]
