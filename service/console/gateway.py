"""Every use case the console calls, imported in this one module.

The console adds no SQL of its own: it calls the same use cases as the JSON moderation API
(``service/api/moderation.py``), plus the console's own reads in ``service.console_queries``.
When the use cases move, only these imports change.
"""

from __future__ import annotations

from service.console_queries import (
    DashboardView,
    dashboard,
    moderator_for_session,
    session_fingerprint,
    site_slugs,
)
from service.domain.policy import PolicyInvalid
from service.domain.statuses import Status
from service.moderation import (
    AUTHOR_KEY,
    MAX_BULK,
    REASON_CODE,
    BulkResult,
    Forbidden,
    InvalidDecision,
    ModerationDetail,
    ModerationItem,
    ModeratorRef,
    PolicyConflict,
    PolicyView,
    QueueFilter,
    QueuePage,
    StaleDecision,
    authenticate_moderator,
    decide_comment,
    decide_many,
    get_for_moderation,
    get_site_policy,
    list_queue,
    update_site_policy,
)
from service.usecases import InvalidCursor, NotFound, Services

__all__ = [
    "AUTHOR_KEY",
    "MAX_BULK",
    "REASON_CODE",
    "BulkResult",
    "DashboardView",
    "Forbidden",
    "InvalidCursor",
    "InvalidDecision",
    "ModerationDetail",
    "ModerationItem",
    "ModeratorRef",
    "NotFound",
    "PolicyConflict",
    "PolicyInvalid",
    "PolicyView",
    "QueueFilter",
    "QueuePage",
    "Services",
    "StaleDecision",
    "Status",
    "authenticate_moderator",
    "dashboard",
    "decide_comment",
    "decide_many",
    "get_for_moderation",
    "get_site_policy",
    "list_queue",
    "moderator_for_session",
    "session_fingerprint",
    "site_slugs",
    "update_site_policy",
]
