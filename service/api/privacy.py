"""Privacy routes: a site erases an author's personal data by email (service/erasure.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from pydantic import ValidationError

from service.api.auth import require_site
from service.api.body import read_json_body
from service.api.errors import ApiError
from service.api.schemas import ErasureIn, ErasureOut
from service.usecases.privacy import InvalidEmail, erase_author
from service.usecases.services import Services

bp = Blueprint("privacy", __name__)

_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_type": "must_be_string",
    "string_too_short": "blank",
    "string_too_long": "too_long",
}


def _invalid(fields: dict[str, str]) -> ApiError:
    return ApiError(422, "invalid_fields", "some fields are invalid", fields=fields)


@bp.post("/v1/privacy/erasure")
def erase() -> tuple[Response, int]:
    svc: Services = current_app.extensions["commentmod"]
    site = require_site()
    payload = read_json_body(svc.settings.max_body_bytes)
    if not isinstance(payload, dict):
        raise _invalid({"body": "must_be_object"})
    try:
        request = ErasureIn.model_validate(payload)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False):
            loc = str(error["loc"][0]) if error["loc"] else "body"
            # Only our own field name is ever named: any other key is input, never echoed.
            fields.setdefault(
                loc if loc == "author_email" else "body", _CODES.get(error["type"], "invalid")
            )
        raise _invalid(fields) from None
    try:
        count = erase_author(svc, site, request.author_email)
    except InvalidEmail:
        raise _invalid({"author_email": "invalid_email"}) from None
    return jsonify(ErasureOut(erased=count).model_dump(mode="json")), 200
