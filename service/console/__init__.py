"""The moderators' console: server-rendered pages under ``/console/`` calling the same use
cases as the JSON moderation API (docs/console.md).

Every console response carries a strict Content-Security-Policy (scripts and styles only from
``/console/static``, no inline script), is never cached and may not be framed. Every POST
needs the session's CSRF token and, when the browser sends one, a same-origin ``Origin``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from service.console import session
from service.console.gateway import site_slugs

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Endpoints a visitor without a session may reach.
PUBLIC_ENDPOINTS = frozenset({"console.signin", "console.signin_post", "console.static"})

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)


@bp.before_request
def _authenticate() -> BaseResponse | None:
    session.load_session()
    if request.method == "POST":
        if not session.is_same_origin():
            abort(403)
        if request.endpoint == "console.signin_post":
            return None  # checked by the view (its token is tied to a sign-in cookie)
        if not session.is_csrf_valid():
            abort(403)
    if request.endpoint in PUBLIC_ENDPOINTS or session.current_moderator() is not None:
        return None
    if request.method == "GET" and not request.headers.get("X-Console-Fetch"):
        return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))
    abort(401)


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on POST.
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


_ERRORS = {
    401: ("Signed out", "Your session ended. Sign in again."),
    403: ("Refused", "This request was refused (an expired form or a missing CSRF token)."),
    404: ("Not found", "No such page, or nothing of that name on your sites."),
}


@bp.errorhandler(HTTPException)
def _error_page(exc: HTTPException) -> Response:
    """Console errors are pages (the API keeps its JSON envelope)."""
    status = exc.code or 500
    title, message = _ERRORS.get(status, (exc.name, "The request could not be completed."))
    me = session.current_moderator()
    page = render_template(
        "console/error.html",
        title=title,
        message=message,
        me=me,
        csrf=g.get("csrf"),
        sites=site_slugs(session.services(), me) if me else [],
    )
    return make_response(page, status)


@bp.route("/<path:_anything>", methods=["GET", "POST"])
def _unknown(_anything: str) -> BaseResponse:
    """Any other /console/ path is the console's 404 page (with its headers), not JSON."""
    abort(404)


def _home() -> BaseResponse:
    return redirect(url_for("console.queue"))


def init_app(app: Flask) -> None:
    """Register the console and send ``/`` to it (the service has no other HTML page)."""
    from service.console import pages, views  # noqa: F401  (routes register on import)

    app.register_blueprint(bp)
    app.add_url_rule("/", "console_home", _home)
