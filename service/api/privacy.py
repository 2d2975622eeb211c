"""Privacy routes: a site erases an author's personal data by email (usecases/privacy.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from pydantic import ValidationError

from service.api.auth import require_site
from service.api.body import read_json_body
from service.api.errors import field_errors, invalid_fields
from service.api.schemas import ErasureIn, ErasureOut
from service.usecases.privacy import erase_author
from service.usecases.services import Services

bp = Blueprint("privacy", __name__)
_FIELDS = frozenset({"author_email"})


@bp.post("/v1/privacy/erasure")
def erase() -> tuple[Response, int]:
    svc: Services = current_app.extensions["commentmod"]
    site = require_site()
    payload = read_json_body(svc.settings.max_body_bytes)
    if not isinstance(payload, dict):
        raise invalid_fields({"body": "must_be_object"})
    try:
        request = ErasureIn.model_validate(payload)
    except ValidationError as exc:
        # Only our own field name is ever named: any other key is input, never echoed.
        raise field_errors(exc, known=_FIELDS, fallback="invalid") from None
    erasure = erase_author(svc, site, request.author_email)
    limiter = current_app.extensions["commentmod.ratelimit"]
    for key in erasure.ip_limit_keys:
        limiter.forget("ip", key)
    return jsonify(ErasureOut(erased=erasure.count).model_dump(mode="json")), 200
