"""Response schemas, one per audience. They serialize responses and feed /openapi.json,
so what the API answers is what its document says. No schema has an email or IP field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer


class OutModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_serializer("*", when_used="json", check_fields=False)
    def _utc(self, value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        return value


Status = Literal["pending", "published", "held", "rejected", "spam"]


class AcceptedOut(OutModel):
    """202 answer to a submission."""

    id: str
    status: Literal["pending"] = "pending"
    thread_id: str
    created_at: datetime


class PublicCommentOut(OutModel):
    """A published comment as anyone may see it."""

    id: str
    thread_id: str
    parent_id: str | None
    author_name: str
    author_url: str | None
    text: str
    created_at: datetime
    published_at: datetime | None


class SiteCommentOut(PublicCommentOut):
    """A comment as its own site sees it: also its status and the reasons for it."""

    status: Status
    reasons: list[str]


class ThreadPageOut(OutModel):
    items: list[PublicCommentOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class ErrorBody(OutModel):
    code: str = Field(description="stable snake_case code (README lists them)")
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(OutModel):
    error: ErrorBody


class HealthOut(OutModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool] = Field(default_factory=dict)


class ErasureIn(BaseModel):
    """``POST /v1/privacy/erasure``: whose personal data to erase on the caller's site."""

    model_config = ConfigDict(extra="forbid", strict=True, title="ErasureIn")

    author_email: str = Field(min_length=1, max_length=254)


class ErasureOut(OutModel):
    erased: int = Field(ge=0, description="comments whose author data was erased")
