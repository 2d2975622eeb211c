"""The Flask app: ``create_app(settings)`` is the web's composition root."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request

from service.api import comments, moderation, ops, privacy, public
from service.api.errors import ApiError, register_error_handlers
from service.api.page_cache import PageCache
from service.console import init_app as init_console
from service.logs import configure_logging, request_id_var
from service.metrics import Metrics
from service.ratelimit import RateLimiter
from service.settings import Settings, load_settings
from service.usecases.services import Services, build_services

access_log = logging.getLogger("commentmod.access")


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else load_settings())
    configure_logging(settings.log_level)
    svc = services or build_services(settings)
    app = Flask("commentmod")
    # Werkzeug refuses larger bodies while reading (also chunked ones): 413 before parsing.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["commentmod"] = svc
    app.extensions["commentmod.metrics"] = Metrics(svc)
    app.extensions["commentmod.ratelimit"] = RateLimiter.from_settings(svc.settings)
    app.extensions["commentmod.pages"] = PageCache()
    register_error_handlers(app)
    for blueprint in (comments.bp, public.bp, moderation.bp, privacy.bp, ops.bp):
        app.register_blueprint(blueprint)
    init_console(app)  # the moderators' pages under /console/ (docs/console.md)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        g.request_id = rid
        g.started = time.perf_counter()
        request_id_var.set(rid)

    @app.before_request
    def _no_nul_in_path() -> None:
        # No stored id contains NUL, and PostgreSQL refuses NUL in text parameters (a 500).
        if any("\x00" in str(value) for value in (request.view_args or {}).values()):
            raise ApiError(404, "not_found", "no such resource")

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # The route pattern, not the path: paths carry thread ids chosen by sites.
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
            },
        )
        return response

    return app


def create_app_from_env() -> Flask:
    """Entry point for gunicorn: ``gunicorn 'service.api:create_app_from_env()'``."""
    return create_app(load_settings())
