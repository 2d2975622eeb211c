"""Rendered public thread pages of this process, owned by the app (``app.extensions``).

Key ``(site, thread, limit, cursor)`` → (expires at, body, ETag); see
``public_page_cache_seconds`` in config/commentmod.toml. Bounded by the bodies' total size.
"""

from __future__ import annotations

PageKey = tuple[str, str, int, str | None]
PageEntry = tuple[float, bytes, str]
PAGE_CACHE_MAX_BYTES = 16 * 1024 * 1024


class PageCache:
    def __init__(self, max_bytes: int = PAGE_CACHE_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: dict[PageKey, PageEntry] = {}
        self._bytes = 0

    @property
    def size(self) -> int:
        """The cached bodies' total size in bytes."""
        return self._bytes

    def keys(self) -> set[PageKey]:
        return set(self._pages)

    def get(self, key: PageKey, now: float) -> PageEntry | None:
        """The entry for ``key`` while it has not expired."""
        entry = self._pages.get(key)
        return entry if entry is not None and entry[0] > now else None

    def put(self, key: PageKey, entry: PageEntry, now: float) -> None:
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        if self._bytes + len(entry[1]) > self.max_bytes:
            # Drop what has expired; if that is not enough, start over (bounded, and cheap).
            for k in [k for k, v in self._pages.items() if v[0] <= now]:
                self._bytes -= len(self._pages.pop(k)[1])
            if self._bytes + len(entry[1]) > self.max_bytes:
                self._pages.clear()
                self._bytes = 0
        self._pages[key] = entry
        self._bytes += len(entry[1])
