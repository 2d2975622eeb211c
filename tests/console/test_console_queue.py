"""The queue's order option (oldest or newest first, keyset pages in either order) and the
thread link (the comment's ``thread_url`` when the site sent one), on comments the real
worker held."""

from __future__ import annotations

import re

import pytest

from service.usecases.moderation import QueueFilter, QueueOrder, list_queue
from service.usecases.services import Services
from service.usecases.sites import authenticate_moderator
from tests.console.conftest import ConsoleServer, Desk, held
from tests.console.test_console_http import client_for, sign_in

pytestmark = pytest.mark.integration

ITEM_ID = re.compile(r'<article class="item" id="c-([0-9a-f-]+)"')
THREAD_URL = "https://news.example/2026/11/budget-article?ref=a&b=1"


def _three_held(server: ConsoleServer, desk: Desk) -> list[str]:
    """Three held comments in submission order (each decided before the next is sent)."""
    return [
        held(server, desk),
        held(server, desk, thread_id="article-7", thread_url=THREAD_URL),
        held(server, desk),
    ]


def test_the_queue_use_case_pages_newest_first_by_cursor(
    services: Services, console_server: ConsoleServer, desk: Desk
) -> None:
    ids = _three_held(console_server, desk)
    moderator = authenticate_moderator(services, desk.token)
    assert moderator is not None

    def walk(order: QueueOrder) -> list[str]:
        seen: list[str] = []
        cursor = None
        for _ in range(len(ids) + 1):
            page = list_queue(services, moderator, QueueFilter(order=order), 1, cursor)
            seen += [item.id for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return seen
        raise AssertionError(f"more pages than comments: {seen}")

    assert walk(QueueOrder.OLDEST) == ids
    assert walk(QueueOrder.NEWEST) == ids[::-1]


def test_the_console_filter_orders_the_queue_and_links_the_thread_page(
    services: Services, console_server: ConsoleServer, desk: Desk
) -> None:
    ids = _three_held(console_server, desk)
    client = client_for(services)
    sign_in(client, desk.token)

    oldest = client.get(f"/console/?site={desk.slug}").get_data(as_text=True)
    newest = client.get(f"/console/?site={desk.slug}&order=newest").get_data(as_text=True)
    assert ITEM_ID.findall(oldest) == ids
    assert ITEM_ID.findall(newest) == ids[::-1]
    assert '<option value="newest" selected>newest first</option>' in newest
    assert '<option value="oldest" selected>oldest first</option>' in oldest
    uncertain = client.get(f"/console/?site={desk.slug}&order=uncertainty").get_data(as_text=True)
    assert '<option value="uncertainty" selected>least certain first</option>' in uncertain
    assert sorted(ITEM_ID.findall(uncertain)) == sorted(ids)
    refused = client.get(f"/console/?site={desk.slug}&order=sideways").get_data(as_text=True)
    assert "The order must be a choice." in refused and ITEM_ID.findall(refused) == ids

    # The comment that came with a thread_url links to that page (escaped in the attribute);
    # the others link to the thread's published comments.
    assert newest.count('href="https://news.example/2026/11/budget-article?ref=a&amp;b=1"') == 1
    public = f'href="/v1/sites/{desk.slug}/threads/article-42/comments"'
    assert newest.count(public) == 2
    detail = client.get(f"/console/comments/{ids[1]}").get_data(as_text=True)
    assert "budget-article" in detail and public not in detail
