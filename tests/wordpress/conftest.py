"""The WordPress end-to-end stack, once per run: WordPress (Debian package, fresh MariaDB
database) with the plugin activated, and commentmod serving a site whose webhook points at
the plugin's decisions route. `make test-wordpress` runs this directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.wordpress.harness import Commentmod, WordPress, require_tools

SITE = "wp-e2e"


@dataclass
class Stack:
    wp: WordPress
    commentmod: Commentmod
    api_key: str
    webhook_secret: str
    moderator_token: str
    webhook_url: str
    post_url: str


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_tools()
    base = tmp_path_factory.mktemp("wordpress")
    wp = WordPress(base / "site")
    commentmod = Commentmod(base / "commentmod")
    webhook_url = f"{wp.url}/index.php?rest_route=/commentmod/v1/decisions"
    try:
        wp.install()
        commentmod.cli("db", "upgrade")
        site = json.loads(commentmod.cli("sites", "create", SITE, "--webhook-url", webhook_url))
        moderator = json.loads(
            commentmod.cli("moderators", "create", "wp-moderator", "--site", SITE)
        )
        activated = wp.tool(
            "activate",
            {
                "settings": {
                    "service_url": commentmod.url,
                    "api_key": site["api_key"],
                    "webhook_secret": site["webhook_secret"],
                    "moderator_token": moderator["token"],
                    "unreachable": "hold",
                }
            },
        )
        assert activated["active"] is True
        assert activated["recurring_at"], "activation schedules the WP-Cron retry run"
        assert activated["webhook_url"] == webhook_url
        commentmod.start()
        wp.serve()
        yield Stack(
            wp=wp,
            commentmod=commentmod,
            api_key=site["api_key"],
            webhook_secret=site["webhook_secret"],
            moderator_token=moderator["token"],
            webhook_url=webhook_url,
            post_url=activated["post_url"],
        )
    finally:
        commentmod.stop()
        wp.stop()
        wp.drop()
