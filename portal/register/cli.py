"""``referendum-portal register import FILE --municipality ATVK --source population|land
--mode continue|abort``: the register import for operators (the same diff, report and audit as
/register/import; exit status 1 when nothing was imported)."""
from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})


@dataclass(frozen=True)
class CommandLineActor:
    """The audit log's actor for an import started from the command line (no portal account):
    a system label naming the command and the operating-system user who ran it."""

    os_user: str
    id: Any = None

    @property
    def audit_label(self) -> str:
        return f"system: register import (command line, {self.os_user})"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (some containers)
        return "unknown"


def report_lines(report: Any, history_id: int | None) -> list[str]:
    """The import page's report as text lines (same wording, Latvian by default)."""
    from flask_babel import gettext

    from portal.register.views import problem_text

    lines = [gettext("Imported") if report.applied else gettext("Nothing was imported")]
    if history_id is not None:
        lines[0] += f" (#{history_id})"
    for label, value in ((gettext("Rows read"), report.rows_read),
                         (gettext("Added"), report.inserted),
                         (gettext("Changed"), report.updated),
                         (gettext("Removed"), report.removed),
                         (gettext("Unchanged"), report.unchanged),
                         (gettext("Problems"), report.problem_count)):
        lines.append(f"  {label}: {value}")
    if report.problems:
        lines.append(gettext("Problems by line"))
        for problem in report.problems:
            text = problem_text(problem.kind)
            if problem.other_line:
                text += f" ({gettext('see line %(line)s', line=problem.other_line)})"
            column = f" [{problem.field}]" if problem.field else ""
            lines.append(f"  {gettext('Line')} {problem.line}{column}: {text}")
        if report.problem_count > len(report.problems):
            lines.append(f"  … {report.problem_count - len(report.problems)}")
    return lines


@click.group("register")
def register_cli() -> None:
    """The voter register (Population and Land Register extracts)."""


@register_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--municipality", "atvk", required=True, help="ATVK code, e.g. 0023000.")
@click.option("--source", type=click.Choice(["population", "land"]), required=True,
              help="Population Register (people) or Land Register (real estate owners).")
@click.option("--mode", type=click.Choice(["continue", "abort"]), default="continue",
              show_default=True, help="A malformed row: skip it, or import nothing.")
@click.option("--format", "file_format", type=click.Choice(["csv", "json"]), default=None,
              help="Default: json for .json/.jsonl/.ndjson files, csv otherwise.")
def import_command(file: Path, atvk: str, source: str, mode: str,
                   file_format: str | None) -> None:
    """Import one extract as a diff against the register of one municipality."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from portal.command import command_app
    from portal.database import in_transaction
    from portal.refusal_texts import refusal_text
    from referendum_core.organisation import Municipality
    from referendum_core.register_import import ImportRefused, import_register

    file_format = file_format or ("json" if file.suffix.lower() in JSON_SUFFIXES else "csv")
    actor = CommandLineActor(os_user=_os_user())
    app = command_app()

    def work(session: Any) -> tuple[Any, Any, ImportRefused | None]:
        muni = session.scalars(select(Municipality).where(
            Municipality.atvk_code == atvk.strip())).first()
        if muni is None:
            raise click.ClickException(f"unknown municipality (ATVK) {atvk}")
        with file.open("rb") as stream:
            try:
                history, report = import_register(
                    session, app.extensions["clock"], actor, app.extensions["keys"].personal_codes,
                    source, stream, file_format=file_format, mode=mode, municipality=muni,
                    filename=file.name)
            except ImportRefused as refusal:  # committed: the refusal stays in the audit log
                return None, None, refusal
        return history, report, None

    with app.app_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        history, report, refusal = in_transaction(work)
        if refusal is not None:
            raise click.ClickException(refusal_text(refusal))
        for line in report_lines(report, history.id):
            click.echo(line)
    if not report.applied:
        raise SystemExit(1)
