"""The WordPress end-to-end stack, once per run (tests/wordpress/harness.py: WordPress from
Debian's package on a fresh MariaDB database with the plugin activated, and commentmod serving
a site whose webhook points at the plugin's decisions route). `make test-wordpress` runs this
directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wordpress.harness import Stack, open_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with open_stack(tmp_path_factory.mktemp("wordpress")) as running:
        yield running
