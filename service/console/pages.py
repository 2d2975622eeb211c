"""The site policy page (view, edit, version history, conflicts) and the dashboard."""

from __future__ import annotations

from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from service.console import bp, forms, session
from service.console.gateway import (
    Forbidden,
    PolicyConflict,
    PolicyInvalid,
    PolicyView,
    dashboard,
    get_site_policy,
    update_site_policy,
)
from service.console.views import page_context

# The policy validator's codes, in words (docs/moderation.md lists them).
FIELD_MESSAGES = {
    "must_be_integer": "must be a whole number",
    "out_of_range": "is out of range",
    "invalid_choice": "is not one of the choices",
    "must_be_boolean": "must be on or off",
    "must_be_list": "must be a list",
    "invalid_word": "holds an entry that is not a word or phrase",
    "too_many": "has too many entries",
    "must_be_object": "must be a JSON object",
    "must_be_json": "is not valid JSON",
    "invalid_check": "names a check other than spam or toxicity",
    "invalid_lang": "names an invalid language",
    "invalid_level": "uses levels other than suspect and blatant",
    "invalid_score": "needs scores from 0 to 1",
    "suspect_above_blatant": "has suspect above blatant",
    "unknown_field": "is not a policy key",
}


def _policy_page(
    view: PolicyView, status: int = 200, values: dict[str, str] | None = None, **extra: Any
) -> BaseResponse:
    return make_response(
        render_template(
            "console/policy.html",
            **page_context(),
            policy=view,
            values=values if values is not None else forms.policy_form_values(view.overrides),
            **extra,
        ),
        status,
    )


@bp.get("/sites/<site>/policy")
def policy(site: str) -> BaseResponse:
    ctx = page_context()
    try:
        view = get_site_policy(session.services(), ctx["me"], site)
    except Forbidden:
        abort(404)
    saved = request.args.get("saved")
    notice = f"Saved as version {view.version}." if saved and saved.isdigit() else None
    return _policy_page(view, notice=notice, notice_kind="ok")


@bp.post("/sites/<site>/policy")
def policy_post(site: str) -> BaseResponse:
    me = page_context()["me"]
    svc = session.services()
    try:
        current = get_site_policy(svc, me, site)
    except Forbidden:
        abort(404)
    values = {k: request.form.get(k, "") for k in forms.policy_form_values({})}
    document, errors = forms.parse_policy_form(request.form)
    if not errors:
        try:
            view = update_site_policy(
                svc,
                me,
                site,
                document,
                actor=me.actor,
                expected_version=forms.expected_version(request.form),
            )
        except PolicyInvalid as exc:
            errors = exc.fields
        except PolicyConflict:
            return _policy_page(
                get_site_policy(svc, me, site),
                409,
                values=values,
                notice=(
                    "Someone else saved this policy first. The page now shows their version "
                    "below; your edits are still in the form — check them and save again."
                ),
                notice_kind="error",
            )
        else:
            return redirect(url_for("console.policy", site=view.site, saved=view.version))
    return _policy_page(
        current,
        422,
        values=values,
        errors={k: FIELD_MESSAGES.get(v, v) for k, v in errors.items()},
        notice="Some fields need a fix; nothing was saved.",
        notice_kind="error",
    )


@bp.get("/dashboard")
def dashboard_page() -> BaseResponse:
    ctx = page_context()
    view = dashboard(session.services(), ctx["me"])
    busiest = max((n for _, n in view.decisions_per_day), default=0)
    return make_response(
        render_template("console/dashboard.html", **ctx, board=view, busiest=busiest)
    )
