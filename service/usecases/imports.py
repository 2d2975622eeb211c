"""History import: a site's past comments, from any parser of service/domain/imports,
stored like submitted ones (email encrypted + keyed hash, IP truncated + hashed), with
their original times, an audit row by ``import:<format>`` and, for decided ones, a label.

No webhook fires and no check runs, unless ``recheck``: then comments still awaiting
moderation enter as ``pending`` with their check jobs (the outbox) and the normal pipeline
decides them. Each batch is one unit of work; an entry already imported (its id derives
from the site, the format and the export's own id) is skipped, so a re-import changes
nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import regex
from email_validator import EmailNotValidError, validate_email

from service.domain.imports.records import (
    STATE_STATUS,
    Entry,
    Malformed,
    TrashAs,
    imported_comment_id,
    label_action,
)
from service.domain.privacy import truncate_ip
from service.domain.statuses import Status
from service.domain.submission import MAX_AUTHOR_URL_CHARS, text_fingerprint
from service.usecases.services import NotFound, Services, utcnow

BATCH_SIZE = 500
MAX_REPORTED = 1000  # malformed and duplicate positions listed in the summary
_FORBIDDEN = regex.compile(r"[\p{Cs}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_VISIBLE = regex.compile(r"[^\p{Z}\p{Cf}\s]")


@dataclass
class ImportOptions:
    source: str  # wordpress | disqus | csv
    trash_as: TrashAs = TrashAs.TOXIC
    recheck: bool = False
    batch_size: int = BATCH_SIZE


@dataclass
class ImportSummary:
    site: str
    source: str
    imported: int = 0
    skipped_duplicate: int = 0
    malformed: int = 0
    labels: int = 0
    queued_for_checks: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    malformed_entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.imported + self.skipped_duplicate + self.malformed

    def skip(
        self, position: int, reason: str, source_id: str | None, *, is_malformed: bool
    ) -> None:
        listed = self.malformed_entries if is_malformed else self.duplicates
        if is_malformed:
            self.malformed += 1
        else:
            self.skipped_duplicate += 1
        if len(listed) < MAX_REPORTED:
            listed.append({"position": position, "source_id": source_id, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "source": self.source,
            "imported": self.imported,
            "skipped_duplicate": self.skipped_duplicate,
            "malformed": self.malformed,
            "labels": self.labels,
            "queued_for_checks": self.queued_for_checks,
            "by_status": dict(sorted(self.by_status.items())),
            "duplicates": self.duplicates,
            "malformed_entries": self.malformed_entries,
        }


def import_history(
    svc: Services,
    slug: str,
    entries: Iterable[Entry | Malformed],
    options: ImportOptions,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import ``entries`` into the site ``slug`` (raises NotFound). Idempotent: see module."""
    with svc.uow() as uow:
        site = uow.sites.by_slug(slug)
        if site is None:
            raise NotFound(resource="site")
        site_id = site.id
    summary = ImportSummary(site=slug, source=options.source)
    batch: list[tuple[Entry, dict[str, Any]]] = []
    for entry in entries:
        if isinstance(entry, Malformed):
            summary.skip(entry.position, entry.reason, entry.source_id, is_malformed=True)
            continue
        row = _comment_row(svc, site_id, entry, options)
        if isinstance(row, str):
            summary.skip(entry.position, row, entry.source_id, is_malformed=True)
            continue
        batch.append((entry, row))
        if len(batch) >= options.batch_size:
            _store_batch(svc, batch, options, summary)
            batch = []
            if progress:
                progress(summary)
    if batch:
        _store_batch(svc, batch, options, summary)
    if progress:
        progress(summary)
    return summary


def _store_batch(
    svc: Services,
    batch: Sequence[tuple[Entry, dict[str, Any]]],
    options: ImportOptions,
    summary: ImportSummary,
) -> None:
    """One unit of work: the new comments, their audit rows, labels and check jobs."""
    actor = f"import:{options.source}"
    now = utcnow()
    unique: dict[str, tuple[Entry, dict[str, Any]]] = {}
    for entry, row in batch:
        if row["id"] in unique:  # the same export id twice in one file
            summary.skip(entry.position, "duplicate_in_file", entry.source_id, is_malformed=False)
        else:
            unique[row["id"]] = (entry, row)
    with svc.uow() as uow:
        stored = uow.imports.existing(list(unique))
        fresh = [row for key, (_, row) in unique.items() if key not in stored]
        inserted = uow.imports.insert_comments(fresh)
        audit, labels, jobs = [], [], []
        for key, (entry, row) in unique.items():
            if key not in inserted:
                reason = "already_imported" if key in stored else "duplicate_text"
                summary.skip(entry.position, reason, entry.source_id, is_malformed=False)
                continue
            audit.append(_audit_row(row, actor))
            action = entry.label or label_action(entry.state, options.trash_as)
            if action is not None:
                labels.append(
                    {
                        "comment_id": key,
                        "site_id": row["site_id"],
                        "action": action,
                        "actor": actor,
                        "updated_at": row["created_at"],
                    }
                )
            if row["status"] == Status.PENDING.value:
                jobs += _job_rows(svc, key, now)
        uow.imports.add_audit(audit)
        uow.imports.add_labels(labels)
        uow.imports.add_jobs(jobs)
    queued = [row["id"] for _, row in unique.values() if row["id"] in inserted]
    for key in queued:
        if unique[key][1]["status"] == Status.PENDING.value:
            svc.producer.enqueue_checks(key, svc.settings.checks)
            summary.queued_for_checks += 1
        status = unique[key][1]["status"]
        summary.by_status[status] = summary.by_status.get(status, 0) + 1
    summary.imported += len(inserted)
    summary.labels += len(labels)


def _audit_row(row: dict[str, Any], actor: str) -> dict[str, Any]:
    return {
        "comment_id": row["id"],
        "site_id": row["site_id"],
        "actor": actor,
        "from_status": Status.PENDING.value,
        "to_status": row["status"],
        "reasons": ["imported"],
        "note": None,
        "created_at": row["created_at"],
    }


def _job_rows(svc: Services, comment_id: str, now: Any) -> list[dict[str, Any]]:
    next_send_at = now + timedelta(seconds=svc.settings.relay_grace_seconds)
    return [
        {
            "comment_id": comment_id,
            "check": check,
            "created_at": now,
            "next_send_at": next_send_at,
            "send_count": 0,
            "attempt_count": 0,
        }
        for check in svc.settings.checks
    ]


def _comment_row(
    svc: Services, site_id: int, entry: Entry, options: ImportOptions
) -> dict[str, Any] | str:
    """The comment's row as the submission stores it, or the code of why it cannot be."""
    text = unicodedata.normalize("NFC", entry.text)
    if not _VISIBLE.search(text):
        return "blank_text"
    if len(text) > svc.settings.max_text_chars:
        return "text_too_long"
    if _FORBIDDEN.search(text):
        return "invalid_characters"
    if len(entry.thread_id) > 200:
        return "thread_id_too_long"
    email = _normalized_email(entry.author_email)
    ip = _valid_ip(entry.author_ip)
    status = STATE_STATUS[entry.state]
    if status is Status.HELD and options.recheck:
        status = Status.PENDING
    parent_id = (
        imported_comment_id(site_id, options.source, entry.parent_source_id)
        if entry.parent_source_id
        else None
    )
    return {
        "id": imported_comment_id(site_id, options.source, entry.source_id),
        "site_id": site_id,
        "thread_id": entry.thread_id,
        "thread_url": entry.thread_url
        if entry.thread_url and len(entry.thread_url) <= 2000
        else None,
        "parent_id": parent_id,
        "author_name": _clean_name(entry.author_name),
        "author_url": _clean_url(entry.author_url),
        "author_email_encrypted": svc.vault.encrypt(email) if email else None,
        "author_hash": svc.vault.author_key(email) if email else None,
        "ip_truncated": truncate_ip(ip) if ip else None,
        "ip_hash": svc.vault.ip_hash(ip) if ip else None,
        "user_agent": None,
        "referrer": None,
        "text": text,
        "text_hash": text_fingerprint(text),
        "lang_hint": entry.lang,
        "lang": entry.lang,
        "is_honeypot_filled": False,
        "seconds_to_submit": None,
        "status": status.value,
        "reasons": ["imported"],
        "created_at": entry.created_at,
        "decided_at": None,
        "published_at": entry.created_at if status is Status.PUBLISHED else None,
    }


@functools.lru_cache(maxsize=10_000)
def _normalized_email(raw: str | None) -> str | None:
    """The submission's normalization; an export's invalid email is dropped, not stored.
    Cached (bounded): a site's regular commenters recur throughout its history."""
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _valid_ip(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _clean_name(raw: str) -> str:
    name = regex.sub(
        r"[\p{Cc}\p{Cs}\u202a-\u202e\u2066-\u2069]", "", unicodedata.normalize("NFC", raw)
    )
    return name.strip()[:245] or "Anonymous"


def _clean_url(raw: str | None) -> str | None:
    if (
        not raw
        or len(raw) > MAX_AUTHOR_URL_CHARS
        or not raw.lower().startswith(("http://", "https://"))
    ):
        return None
    return None if any(ch.isspace() for ch in raw) else raw
