"""The console in a real headless Chromium against a real gunicorn on the test database,
with the suite's Celery worker deciding the comments: sign-in, filters, highlighted Hindi
abuse, keyboard and bulk decisions, a stale decision, the policy, sign-out, tenancy, CSRF."""

from __future__ import annotations

import uuid

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from service.usecases.services import Services
from service.usecases.sites import create_moderator, revoke_moderator
from tests.conftest import auth
from tests.console.browser import press, sign_in, text_in, visible, wait
from tests.console.conftest import HINDI_ABUSE, ConsoleServer, Desk, held, new_desk

pytestmark = pytest.mark.integration


def status_of(server: ConsoleServer, desk: Desk, comment_id: str) -> str:
    r = requests.get(
        f"{server.url}/v1/comments/{comment_id}", headers=auth(desk.api_key), timeout=10
    )
    r.raise_for_status()
    return str(r.json()["status"])


def item_css(comment_id: str) -> str:
    return f'article.item[data-id="{comment_id}"]'


def test_sign_in_filter_and_see_the_hindi_abuse_highlighted(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    hindi = held(console_server, desk, text=HINDI_ABUSE, author_email="ravi@example.com")
    english = held(console_server, desk)
    sign_in(chrome, console_server.url, desk.token)
    visible(chrome, item_css(hindi))
    visible(chrome, item_css(english))

    field = chrome.find_element(By.ID, "f-lang")
    field.send_keys("hi")
    chrome.find_element(By.ID, "apply-filters").click()
    wait(chrome).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, item_css(english))))
    item = visible(chrome, item_css(hindi))
    assert "lang=hi" in chrome.current_url

    text = item.find_element(By.CSS_SELECTOR, "p.text")
    assert text.get_attribute("lang") == "hi"
    assert text.text == HINDI_ABUSE
    marks = item.find_elements(By.CSS_SELECTOR, "mark.ev-abuse")
    assert [m.text for m in marks] == ["हरामी"]
    assert marks[0].get_attribute("title") == "insult:2"
    assert "toxicity_suspected" in item.find_element(By.CSS_SELECTOR, ".reasons").text
    rows = {
        r.find_element(By.TAG_NAME, "th").text: r.text
        for r in item.find_elements(By.CSS_SELECTOR, "table.checks tbody tr")
    }
    assert "suspect" in rows["toxicity"] and "insult" in rows["toxicity"]
    assert "clean" in rows["spam"]
    assert "r***@example.com" in item.text and "ravi@" not in chrome.page_source
    assert "0 published" in item.find_element(By.CSS_SELECTOR, ".history").text

    # The check filter: the Hindi abuse is a toxicity hold, the links a spam suspicion.
    chrome.get(f"{console_server.url}/console/?site={desk.slug}&check=spam")
    visible(chrome, item_css(english))
    assert not chrome.find_elements(By.CSS_SELECTOR, item_css(hindi))
    chrome.get(f"{console_server.url}/console/?site={desk.slug}&check=toxicity")
    visible(chrome, item_css(hindi))
    assert not chrome.find_elements(By.CSS_SELECTOR, item_css(english))


def test_approve_with_the_keyboard_and_move_on(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    first, second = held(console_server, desk), held(console_server, desk)
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/?site={desk.slug}")
    visible(chrome, f"{item_css(first)}.current")
    press(chrome, "?")
    visible(chrome, "dialog#keys")
    chrome.find_element(By.CSS_SELECTOR, "dialog#keys button").click()
    press(chrome, "j")
    visible(chrome, f"{item_css(second)}.current")
    press(chrome, "k")
    visible(chrome, f"{item_css(first)}.current")
    press(chrome, "a")
    text_in(chrome, f"{item_css(first)} output", "Approved: now published (was held)")
    visible(chrome, f"{item_css(second)}.current")
    assert status_of(console_server, desk, first) == "published"
    assert status_of(console_server, desk, second) == "held"


def test_bulk_reject_with_x_and_the_checkboxes(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    ids = [held(console_server, desk) for _ in range(3)]
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/?site={desk.slug}")
    visible(chrome, f"{item_css(ids[0])}.current")
    press(chrome, "x")
    press(chrome, "j")
    press(chrome, "x")
    chrome.find_element(By.ID, f"sel-{ids[2]}").click()
    text_in(chrome, "#selected-count", "3")
    chrome.find_element(By.ID, "bulk-action").send_keys("reject")
    chrome.find_element(By.ID, "bulk-reason").send_keys("abusive")
    chrome.find_element(By.ID, "bulk-submit").click()
    text_in(chrome, "#bulk-summary", "3 of 3 decided")
    assert [status_of(console_server, desk, i) for i in ids] == ["rejected"] * 3


def test_a_stale_decision_says_so_and_shows_the_current_status(
    services: Services, console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    comment_id = held(console_server, desk)
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/?site={desk.slug}")
    visible(chrome, f"{item_css(comment_id)}.current")
    # Another moderator of the site rejects it through the JSON API meanwhile.
    _, other_token = create_moderator(services, "Arjun", [desk.slug])
    r = requests.post(
        f"{console_server.url}/v1/moderation/comments/{comment_id}/decision",
        json={"action": "reject"},
        headers=auth(other_token),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    press(chrome, "a")
    outcome = f"{item_css(comment_id)} output"
    text_in(chrome, outcome, "Another moderator decided this comment first.")
    text_in(chrome, outcome, "Its current status is rejected.")
    text_in(chrome, f'{item_css(comment_id)} [data-role="status"]', "rejected")
    assert status_of(console_server, desk, comment_id) == "rejected"


def test_edit_the_policy_in_devanagari_and_meet_a_conflict(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/sites/{desk.slug}/policy")
    chrome.find_element(By.ID, "p-blocked_words").send_keys("कमल\ntamatar")
    chrome.find_element(By.ID, "p-max_links").send_keys("3")
    chrome.find_element(By.ID, "save-policy").click()
    text_in(chrome, "#notice", "Saved as version 1.")
    effective = visible(chrome, "#effective").text
    assert "कमल" in effective and "tamatar" in effective
    assert "moderator:" in visible(chrome, "#versions").text

    # Someone saves version 2 through the API while the page still shows version 1.
    r = requests.put(
        f"{console_server.url}/v1/moderation/sites/{desk.slug}/policy",
        json={"max_links": 5},
        headers={**auth(desk.token), "If-Match": '"1"'},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    chrome.find_element(By.ID, "p-watched_words").send_keys("दलाल")
    chrome.find_element(By.ID, "save-policy").click()
    text_in(chrome, "#notice", "Someone else saved this policy first.")
    text_in(chrome, "#policy-version", "Version 2")
    assert "दलाल" in chrome.find_element(By.ID, "p-watched_words").get_attribute("value")
    # Saving again from the refreshed page works, on top of version 2.
    chrome.find_element(By.ID, "save-policy").click()
    text_in(chrome, "#notice", "Saved as version 3.")
    policy = requests.get(
        f"{console_server.url}/v1/moderation/sites/{desk.slug}/policy",
        headers=auth(desk.token),
        timeout=10,
    ).json()
    assert policy["overrides"]["watched_words"] == ["दलाल"]


def test_sign_out_and_a_revoked_token_end_the_session(
    services: Services, console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    sign_in(chrome, console_server.url, desk.token)
    chrome.find_element(By.ID, "signout").click()
    visible(chrome, "#token")
    chrome.get(f"{console_server.url}/console/dashboard")
    visible(chrome, "#token")
    assert "/console/signin" in chrome.current_url

    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/dashboard")
    visible(chrome, "#queue-stats")
    assert revoke_moderator(services, desk.moderator_id)
    chrome.get(f"{console_server.url}/console/dashboard")
    visible(chrome, "#token")
    chrome.find_element(By.ID, "token").send_keys(desk.token)
    chrome.find_element(By.ID, "signin-button").click()
    text_in(chrome, "#signin-error", "That moderator token is not valid.")


def test_a_second_sites_moderator_cannot_see_the_first_sites_comments(
    services: Services, console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    comment_id = held(console_server, desk, text=HINDI_ABUSE)
    other = new_desk(services, "Kabir")
    sign_in(chrome, console_server.url, other.token)
    chrome.get(f"{console_server.url}/console/?status=held")
    visible(chrome, "#empty")
    assert comment_id not in chrome.page_source and HINDI_ABUSE not in chrome.page_source
    chrome.get(f"{console_server.url}/console/?site={desk.slug}")
    text_in(chrome, "main", "Unknown site.")
    assert comment_id not in chrome.page_source
    chrome.get(f"{console_server.url}/console/comments/{comment_id}")
    text_in(chrome, "h1", "Not found")
    chrome.get(f"{console_server.url}/console/sites/{desk.slug}/policy")
    text_in(chrome, "h1", "Not found")
    nav = chrome.find_element(By.CSS_SELECTOR, "header.top nav").text
    assert desk.slug not in nav and other.slug in nav


def test_a_post_without_the_csrf_token_is_refused(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    comment_id = held(console_server, desk)
    sign_in(chrome, console_server.url, desk.token)
    url = f"/console/comments/{comment_id}/decision"
    # From the console's own page, with the session cookie but no token: 403.
    status = chrome.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const body = new URLSearchParams({action: "approve"});
        fetch(arguments[0], {method: "POST", body: body, credentials: "same-origin"})
          .then(r => done(r.status));
        """,
        url,
    )
    assert status == 403
    # A forged form post carrying the stolen cookie but a wrong token: 403 as well.
    cookies = {c["name"]: c["value"] for c in chrome.get_cookies()}
    forged = requests.post(
        f"{console_server.url}{url}",
        data={"action": "approve", "csrf_token": "guess-" + uuid.uuid4().hex},
        cookies=cookies,
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    assert status_of(console_server, desk, comment_id) == "held"


def test_comment_text_is_escaped_never_run(
    console_server: ConsoleServer, desk: Desk, chrome: WebDriver
) -> None:
    attack = (
        '<script>document.title="owned"</script><img src=x onerror="document.title=\'owned\'">'
        " https://example.org/a https://example.net/b"
    )
    comment_id = held(console_server, desk, text=attack)
    sign_in(chrome, console_server.url, desk.token)
    chrome.get(f"{console_server.url}/console/comments/{comment_id}")
    text = visible(chrome, f"{item_css(comment_id)} p.text")
    assert text.text == attack
    assert text.find_elements(By.TAG_NAME, "img") == []
    assert text.find_elements(By.TAG_NAME, "script") == []
    assert chrome.title != "owned"
    assert "held" in visible(chrome, "#audit").text
