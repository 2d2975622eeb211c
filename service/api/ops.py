"""Operational routes: liveness, readiness, metrics, the API document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from service.api.openapi import build_openapi
from service.usecases.services import Services, readiness

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok", "checks": {}})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    svc: Services = current_app.extensions["commentmod"]
    checks = readiness(svc)
    ready = all(checks.values())
    return jsonify({"status": "ok" if ready else "unavailable", "checks": checks}), (
        200 if ready else 503
    )


@bp.get("/metrics")
def metrics() -> Response:
    body = current_app.extensions["commentmod.metrics"].render()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


@bp.get("/openapi.json")
def openapi() -> Response:
    try:
        app_version = version("commentmod")
    except PackageNotFoundError:  # running from a source tree without installing
        app_version = "0+unknown"
    return jsonify(build_openapi(app_version))
