"""JSON API for municipal systems: create, read, transition and comment on cases.

Authentication is by service token only (``Authorization: Bearer rpt_…``); session cookies are
ignored here, which is why the blueprint is exempt from CSRF protection. A token acts as its
owner, with the owner's roles and municipality, limited to the token's scopes.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from portal.cases import services as portal_services
from portal.cases.access import access_case, visibility_for
from portal.cases.apispec import ApiInputError, ApiSpec, Field, RouteDoc, Schema, validate
from portal.cases.filters import filter_from_args
from portal.cases.tokens import authenticate_token
from portal.jsonbody import BodyNotJson, json_object
from portal.permissions import Permission, has_permission
from portal.realtime import as_id
from portal.refusal_texts import http_refusal, json_body_text
from portal.refusals import on_refusal
from portal.web import audit_context, calendar, clock, db
from referendum_core.cases import queries
from referendum_core.cases.exceptions import NotAllowed
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import ReportCategory, Severity
from referendum_core.cases.workflows import ApplicantKind, Grounds

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")
spec = ApiSpec(title="Referendum portal case API", version="1.0.0")

FILED_TYPES = (CaseType.OBSERVER_REPORT.value, CaseType.COMPLAINT.value,
               CaseType.COMMISSION_QUERY.value)

EVENT = spec.schema(Schema("CaseEvent", (
    Field("kind", "string", required=True), Field("at", "date-time", required=True),
    Field("actor", "string", required=True), Field("transition", "string", nullable=True),
    Field("from_state", "string", nullable=True), Field("to_state", "string", nullable=True),
    Field("note", "string"),
)))
CASE = spec.schema(Schema("Case", (
    Field("id", "integer", required=True), Field("reference", "string", required=True),
    Field("type", "string", required=True), Field("state", "string", required=True),
    Field("is_open", "boolean", required=True),
    Field("version", "integer", required=True,
          description="Send it back as expected_version when moving the case."),
    Field("municipality_id", "integer", nullable=True),
    Field("polling_station_id", "integer", nullable=True),
    Field("title", "string", required=True), Field("summary", "string"),
    Field("owner_party", "string"), Field("assignee_id", "integer", nullable=True),
    Field("opened_at", "date-time", required=True), Field("closed_at", "date-time", nullable=True),
    Field("deadline_at", "date-time", nullable=True),
    Field("deadline_basis", "string", nullable=True),
    Field("allowed_transitions", "array", items="Transition"),
    Field("events", "array", items="CaseEvent"),
)))
spec.schema(Schema("Transition", (
    Field("name", "string", required=True), Field("to_state", "string", required=True),
    Field("requires_note", "boolean", required=True),
)))
CASE_CREATE = spec.schema(Schema("CaseCreate", (
    Field("type", "string", required=True, enum=FILED_TYPES),
    Field("municipality_id", "integer",
          description="complaint, commission_query: the municipality concerned"),
    Field("polling_station_id", "integer", description="observer_report: the station"),
    Field("referendum_id", "integer",
          description="observer_report: the referendum it is about (required when several "
                      "of the station's municipality are under way)"),
    Field("title", "string", max_length=200, description="commission_query"),
    Field("summary", "string", max_length=10_000,
          description="the report, complaint or question"),
    Field("category", "string", enum=tuple(c.value for c in ReportCategory)),
    Field("severity", "string", enum=tuple(s.value for s in Severity)),
    Field("grounds", "string", enum=tuple(x.value for x in Grounds)),
    Field("applicant_kind", "string", enum=tuple(a.value for a in ApplicantKind)),
    Field("contested", "string", max_length=300),
    Field("contested_on", "date"),
), "Fields needed depend on the type."))
TRANSITION_IN = spec.schema(Schema("TransitionRequest", (
    Field("transition", "string", required=True,
          description="A transition name (or a target state when only one move leads there)"),
    Field("expected_version", "integer", required=True),
    Field("note", "string", max_length=10_000),
)))
COMMENT_IN = spec.schema(Schema("CommentRequest", (
    Field("text", "string", required=True, max_length=10_000),
)))
LIST_QUERY = (
    Field("type", "string", description="case type"), Field("state", "string"),
    Field("status", "string", enum=("open", "closed")), Field("municipality", "integer"),
    Field("overdue", "string", enum=("1",)), Field("page", "integer"),
)


def _error(status: int, code: str, message: str, problems: list[str] | None = None,
           **detail: Any) -> Any:
    """A refusal of the API: ``{"error", "code", "status"}`` (the sentence in the request's
    language), ``problems`` (what is wrong, by field name, for programs) and ``detail``."""
    body: dict[str, Any] = {"error": message, "code": code, "status": status, **detail}
    if problems:
        body["problems"] = problems
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cases"'
    return response


def _invalid_body(err: ApiInputError) -> Any:
    fields = ", ".join(dict.fromkeys(_field_of(p) for p in err.problems)) or "-"
    return _error(400, "invalid_body", gettext(
        "The request does not fit the case API: check the fields %(fields)s (see "
        "\"problems\").", fields=fields), err.problems)


def _field_of(problem: str) -> str:
    name, _, rest = problem.partition(":")
    return rest.strip() if name == "unknown field" else name


def api_route(doc: RouteDoc) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API route: documented in OpenAPI, authenticated by token with ``doc.scope``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if doc.scope is not None:
                header = request.headers.get("Authorization", "")
                scheme, _, value = header.partition(" ")
                token = authenticate_token(db(), clock(), value.strip()) \
                    if scheme.lower() == "bearer" else None
                if token is None:
                    return _error(401, "token_required", gettext(
                        "A valid service token is required (Authorization: Bearer …)."))
                if doc.scope not in token.scope_set:
                    return _error(403, "token_scope", gettext(
                        "The service token does not have the scope %(scope)s.",
                        scope=doc.scope), scope=doc.scope)
                g.api_user, g.api_token = token.owner, token
            try:
                return view(*args, **kwargs)
            except BodyNotJson as err:
                return _error(400, "invalid_json", json_body_text(err), reason=err.reason,
                              **err.params)
            except ApiInputError as err:
                return _invalid_body(err)
            except HTTPException as err:
                code, message = http_refusal(err.code or 500, json=True)
                return _error(err.code or 500, code, message)

        rule = doc.path.replace("{", "<int:").replace("}", ">")
        bp.add_url_rule(rule, doc.operation_id, wrapped, methods=[doc.method])
        return spec.route(doc)(wrapped)

    return decorator


def case_json(case: Case, user: Any) -> dict[str, Any]:
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {
        "id": case.id, "reference": case.reference, "type": case.type, "state": case.state,
        "is_open": case.is_open, "version": case.version,
        "municipality_id": case.municipality_id, "polling_station_id": case.polling_station_id,
        "title": case.title, "summary": case.summary, "owner_party": case.owner_party,
        "assignee_id": case.assignee_id, "opened_at": iso(case.opened_at),
        "closed_at": iso(case.closed_at), "deadline_at": iso(case.deadline_at),
        "deadline_basis": case.deadline_basis,
        "allowed_transitions": [
            {"name": t.name, "to_state": t.target, "requires_note": t.requires_note}
            for t in portal_services.requestable_moves(user, case)],
        "events": [{"kind": e.kind, "at": iso(e.at), "actor": e.actor_label,
                    "transition": e.transition, "from_state": e.from_state,
                    "to_state": e.to_state, "note": e.note} for e in case.events],
    }


@api_route(RouteDoc("GET", "/openapi.json", "openapi", "This document", None))
def openapi() -> Any:
    return jsonify(spec.document(url_for("cases_api.openapi", _external=True)
                                 .rsplit("/openapi.json", 1)[0]))


@api_route(RouteDoc("GET", "/cases", "listCases", "List cases the token's owner may see",
                    "cases:read", response=CASE, response_is_list=True, query=LIST_QUERY))
def list_cases() -> Any:
    flt, sort = filter_from_args(request.args, g.api_user.id)
    # X-Total-Count promises the exact number, so the API counts every match.
    page = queries.list_cases(db(), flt, visibility_for(g.api_user), clock().now(), sort=sort,
                              page=request.args.get("page", 1, type=int), count_limit=None)
    response = jsonify([case_json(c, g.api_user) for c in page.items])
    response.headers["X-Total-Count"] = str(page.total)
    return response


@api_route(RouteDoc("GET", "/cases/{case_id}", "getCase", "Read one case with its timeline",
                    "cases:read", response=CASE))
def get_case(case_id: int) -> Any:
    case = access_case(db(), g.api_user, case_id, Permission.VIEW_CASES)
    return jsonify(case_json(case, g.api_user))


def _json_body() -> Any:
    """The request's JSON object, a key named twice refused (``jsonbody``).

    Raises:
        BodyNotJson: not UTF-8, not JSON, a key named twice, or not an object.
    """
    return json_object()


@api_route(RouteDoc("POST", "/cases", "createCase",
                    "File an observer report, a complaint or a commission query", "cases:write",
                    request=CASE_CREATE, response=CASE, status=201))
def create_case() -> Any:
    data = validate(CASE_CREATE, _json_body())
    user, kind = g.api_user, data["type"]
    need = {"observer_report": ("polling_station_id", "category", "severity", "summary"),
            "complaint": ("municipality_id", "grounds", "applicant_kind", "contested",
                          "contested_on", "summary"),
            "commission_query": ("municipality_id", "title", "summary")}[kind]
    missing = [f"{name}: required for {kind}" for name in need if name not in data]
    missing += [f"{name}: not an id" for name in ("polling_station_id", "referendum_id",
                                                  "municipality_id")
                if data.get(name) is not None and as_id(data[name]) is None]
    if missing:
        raise ApiInputError(missing)
    on_refusal(attempted=f"api.create.{kind}", actor=user)
    if kind == "observer_report":
        if not has_permission(user, Permission.FILE_OBSERVER_REPORT):
            raise NotAllowed("not an observer")
        case = portal_services.file_observer_report(
            db(), clock(), user, polling_station_id=data["polling_station_id"],
            referendum_id=data.get("referendum_id"),
            category=data["category"], severity=data["severity"],
            description=data["summary"], calendar=calendar(), context=audit_context())
    elif kind == "complaint":
        if not has_permission(user, Permission.FILE_COMPLAINT):
            raise NotAllowed("may not file complaints")
        case = portal_services.file_complaint(
            db(), clock(), user, municipality_id=data["municipality_id"],
            grounds=data["grounds"], applicant_kind=data["applicant_kind"],
            contested=data["contested"], contested_on=data["contested_on"],
            summary=data["summary"], calendar=calendar(), context=audit_context())
    else:
        case = portal_services.ask_cvk(
            db(), clock(), user, municipality_id=data["municipality_id"],
            title=data["title"], question=data["summary"], calendar=calendar(),
            context=audit_context())
    response = jsonify(case_json(case, user))
    response.status_code = 201
    response.headers["Location"] = url_for("cases_api.getCase", case_id=case.id)
    return response


@api_route(RouteDoc("POST", "/cases/{case_id}/transitions", "transitionCase",
                    "Move a case along its workflow", "cases:write", request=TRANSITION_IN,
                    response=CASE))
def transition(case_id: int) -> Any:
    data = validate(TRANSITION_IN, _json_body())
    user = g.api_user
    case = access_case(db(), user, case_id, Permission.VIEW_CASES)
    on_refusal(obj=case, attempted="api.transition", actor=user)
    portal_services.transition_case(
        db(), clock(), user, case, data["transition"], data["expected_version"],
        data.get("note", ""), calendar=calendar(), context=audit_context())
    return jsonify(case_json(case, user))


@api_route(RouteDoc("POST", "/cases/{case_id}/comments", "commentOnCase",
                    "Add a comment to a case's timeline", "cases:write", request=COMMENT_IN,
                    response=CASE, status=201))
def comment(case_id: int) -> Any:
    data = validate(COMMENT_IN, _json_body())
    user = g.api_user
    case = access_case(db(), user, case_id, Permission.VIEW_CASES)
    on_refusal(obj=case, attempted="api.comment", actor=user)
    portal_services.comment_on_case(db(), clock(), user, case, data["text"],
                                    context=audit_context())
    response = jsonify(case_json(case, user))
    response.status_code = 201
    return response
