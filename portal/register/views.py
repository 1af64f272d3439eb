"""Register pages: importing extracts (with the report of problems by line) and the
polling-station voter lookup. Personal codes travel only in POST bodies, never in URLs or
logs."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import csrf
from portal.permissions import Permission, Scope, municipalities_for, require
from portal.refusals import on_refusal
from portal.register.forms import ImportForm, LookupForm
from portal.web import audit_context, clock, db, keys
from referendum_core import audit
from referendum_core.cases.models import Case, CaseType
from referendum_core.clock import to_riga
from referendum_core.collation import latvian_key
from referendum_core.etvr import lookup_voter
from referendum_core.organisation import Municipality
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.register_import import (
    Problem,
    RegisterImport,
    import_register,
)

bp = Blueprint("register", __name__, url_prefix="/register")


@bp.before_request
def _allow_large_extracts() -> None:
    """Register extracts are far larger than the portal's global upload limit: the import page
    alone accepts up to REGISTER_IMPORT_MAX_BYTES. Werkzeug spools an upload of more than
    500 KiB to a temporary file, and the import reads it as a stream, so memory stays bounded."""
    if request.endpoint == "register.import_page":
        request.max_content_length = current_app.config["REGISTER_IMPORT_MAX_BYTES"]
        if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # the app-wide check skipped this view (see below); same rule, first


def problem_text(kind: str) -> str:
    """A translated sentence for a row problem."""
    texts = {
        Problem.INVALID_CODE: gettext("the personal code is not valid"),
        Problem.MISSING_FIELD: gettext("a required value is empty"),
        Problem.WRONG_FIELDS: gettext("the row has the wrong number of columns or fields"),
        Problem.INVALID_DATE: gettext("the date is not a valid past date (YYYY-MM-DD)"),
        Problem.BIRTH_DATE_MISMATCH: gettext("the birth date does not match the personal code"),
        Problem.INVALID_CITIZENSHIP: gettext("the citizenship is not a country code"),
        Problem.UNKNOWN_MUNICIPALITY: gettext("the municipality code (ATVK) is unknown"),
        Problem.OTHER_MUNICIPALITY: gettext("the row belongs to another municipality"),
        Problem.INVALID_CADASTRAL: gettext("the cadastral number is not valid"),
        Problem.NAME_TOO_LONG: gettext("the name is too long"),
        Problem.NOT_JSON: gettext("the line is not valid JSON"),
        Problem.DUPLICATE: gettext("the same row appears again (kept once)"),
        Problem.CONTRADICTORY: gettext("another row says something different about the same "
                                       "person (both skipped)"),
    }
    return texts.get(kind, kind)


def _municipalities(perm: Permission) -> list[Municipality]:
    allowed = municipalities_for(current_user, perm)
    query = select(Municipality)
    if allowed is not None:
        query = query.where(Municipality.id.in_(allowed or {-1}))
    return sorted(db().scalars(query), key=lambda m: latvian_key(m.name))


# The app-wide CSRF check reads the form before this blueprint can raise the size limit, so it
# skips this view and ``_allow_large_extracts`` runs the same check once the limit is raised.
@bp.route("/import", methods=["GET", "POST"])
@csrf.exempt
@login_required
def import_page() -> Any:
    require(Permission.MANAGE_REGISTER)
    form = ImportForm()
    form.municipality_id.choices = [(m.id, m.name) for m in
                                    _municipalities(Permission.MANAGE_REGISTER)]
    report = history = None
    if form.validate_on_submit():
        muni = db().get(Municipality, form.municipality_id.data)
        require(Permission.MANAGE_REGISTER, Scope(muni.id if muni else None))
        upload = form.upload.data

        def refused(message: str, status: int) -> Any:
            form.upload.errors = [message]
            return _import_page(form, None, None, status)

        on_refusal(refused)
        history, report = import_register(
            db(), clock(), current_user, keys().personal_codes, form.source.data,
            upload.stream, file_format=form.file_format.data, mode=form.mode.data,
            municipality=muni, filename=upload.filename, context=audit_context())
    return _import_page(form, history, report, 200)


def _import_page(form: ImportForm, history: Any, report: Any, status: int) -> Any:
    recent = select(RegisterImport).order_by(RegisterImport.id.desc()).limit(10)
    allowed = municipalities_for(current_user, Permission.MANAGE_REGISTER)
    if allowed is not None:  # a chair sees their municipality's imports; CVK every import
        recent = recent.where(RegisterImport.municipality_id.in_(allowed or {-1}))
    return render_template("register/import.html", form=form, report=report, history=history,
                           recent=list(db().scalars(recent)), problem_text=problem_text), status


@bp.route("/lookup", methods=["GET", "POST"])
@login_required
def lookup() -> Any:
    require(Permission.LOOKUP_VOTER)
    allowed = municipalities_for(current_user, Permission.LOOKUP_VOTER)
    query = select(Case).where(Case.type == CaseType.REFERENDUM, Case.is_open.is_(True))
    if allowed is not None:
        query = query.where(Case.municipality_id.in_(allowed or {-1}))
    cases = list(db().scalars(query.order_by(Case.id.desc())))
    form = LookupForm()
    form.case_id.choices = [(c.id, f"{c.reference}: {c.title}") for c in cases]
    result = None
    status = 200
    if form.validate_on_submit():
        case = db().get(Case, form.case_id.data)
        if case is None or case.type != CaseType.REFERENDUM:
            abort(404)
        require(Permission.LOOKUP_VOTER, Scope(case.municipality_id, case.id))
        try:
            result = lookup_voter(db(), keys().personal_codes, form.personal_code.data,
                                  case_id=case.id, municipality_id=case.municipality_id,
                                  on_day=to_riga(clock().now()).date())
        except InvalidPersonalCode:
            form.personal_code.errors = [gettext("The personal code is not valid.")]
            status = 422
        else:
            audit.record(db(), clock(), current_user, "etvr.lookup", obj=case,
                         context=audit_context(), voted=result.has_voted,
                         eligible=result.eligibility.is_eligible)
        form.personal_code.data = ""  # never echo the code back into the page
    return render_template("register/lookup.html", form=form, result=result), status
