"""Bearer credentials. Keys are looked up by their SHA-256 (a unique-index probe); the clear
key is never stored or logged."""

from __future__ import annotations

from flask import current_app, request

from service.api.errors import ApiError
from service.usecases.services import SiteRef
from service.usecases.sites import authenticate_site

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="commentmod"'}


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "missing_credentials", "send Authorization: Bearer <key>", headers=CHALLENGE
        )
    return token.strip()


def require_site() -> SiteRef:
    site = authenticate_site(current_app.extensions["commentmod"], bearer_token())
    if site is None:
        raise ApiError(401, "invalid_credentials", "the API key is not valid", headers=CHALLENGE)
    return site
