"""Every use case the console calls, imported in this one module.

The console adds no SQL of its own: it calls the same use cases as the JSON moderation API
(``service/api/moderation.py``), plus the console's own reads in ``service.usecases.console``
(their SQL in ``service/db/dashboard.py`` and ``service/db/moderators.py``). When the use
cases move, only these imports change.
"""

from __future__ import annotations

from service.domain.checks import CHECKS
from service.domain.policy import PolicyInvalid
from service.domain.statuses import Status
from service.usecases.console import (
    DashboardView,
    dashboard,
    moderator_for_session,
    session_fingerprint,
    site_slugs,
)
from service.usecases.decisions import BulkResult, decide_comment, decide_many
from service.usecases.moderation import (
    AUTHOR_KEY,
    MAX_BULK,
    REASON_CODE,
    ModerationDetail,
    ModerationItem,
    QueueFilter,
    QueueOrder,
    QueuePage,
    get_for_moderation,
    list_queue,
)
from service.usecases.policies import PolicyView, get_site_policy, update_site_policy
from service.usecases.services import (
    Forbidden,
    InvalidCursor,
    InvalidDecision,
    ModeratorRef,
    NotFound,
    PolicyConflict,
    Services,
    StaleDecision,
)
from service.usecases.sites import authenticate_moderator

__all__ = [
    "AUTHOR_KEY",
    "CHECKS",
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
    "QueueOrder",
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
