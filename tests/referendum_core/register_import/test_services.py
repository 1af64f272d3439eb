"""Streaming register import: diff, line-numbered problems, continue/abort, never half-applied
(Art. 7 eligibility data; VRL 12 and 15(3¹) sources: Population and Land Registers)."""
from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, text

from referendum_core import register_import as ri
from referendum_core.audit import AuditEntry
from referendum_core.personal_code import normalise
from referendum_core.register import LandOwnerRecord, PersonRecord
from referendum_core.register_import import (
    FileFormat,
    ImportMode,
    ImportRefused,
    Problem,
    RegisterImport,
    RegisterSource,
    StagedRow,
    import_register,
    services,
)
from tests.conftest import municipality
from tests.register_data import (
    LAND_HEADER,
    code_for,
    csv_bytes,
    json_array_bytes,
    json_lines_bytes,
    new_code,
    person_row,
)

BORN = date(1980, 1, 1)


@pytest.fixture()
def run(db_session, clock, protector, people):
    actor = people.chair()

    def _run(data: bytes, *, source=RegisterSource.POPULATION, mode=ImportMode.CONTINUE,
             fmt=FileFormat.CSV, muni=None, batch_size=ri.BATCH_SIZE):
        return import_register(db_session, clock, actor, protector, source, io.BytesIO(data),
                               file_format=fmt, mode=mode, municipality=muni,
                               batch_size=batch_size)

    return _run


def persons(session):
    return {p.person_ref: p for p in session.scalars(select(PersonRecord))}


def test_csv_import_inserts_people_and_is_audited(db_session, run, protector, adazi):
    rows = [person_row(BORN, i) for i in range(5)] + [
        (new_code(7), "Jauns Kods", "2019-01-01", "LVA", "0023000")]
    history, report = run(csv_bytes(rows), muni=adazi, batch_size=2)
    assert report.applied and report.inserted == 6 and report.problems == []
    stored = persons(db_session)
    assert len(stored) == 6
    assert stored[protector.lookup_hash(new_code(7))].citizenship == "LV"
    assert history.status == "applied"
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "register.imported")).all()[-1]
    assert entry.detail_dict["inserted"] == 6 and entry.detail_dict["rows_read"] == 6
    assert db_session.scalar(select(func.count()).select_from(StagedRow)) == 0


def test_personal_codes_never_stored_or_reported_in_clear(db_session, run, adazi):
    bad = "161175-19990"
    rows = [person_row(BORN, 1), (bad, "X", "1975-11-16", "LV", "0023000")]
    history, report = run(csv_bytes(rows), muni=adazi)
    digits = normalise(rows[0][0])
    for table in ("register_persons", "register_imports", "audit_log"):
        dump = " ".join(" ".join(map(str, r)) for r in db_session.execute(
            text(f"SELECT * FROM {table}")))  # noqa: S608 - fixed table names
        assert digits not in dump and rows[0][0] not in dump and "1611751999" not in dump
    assert report.problems[0].kind == Problem.INVALID_CODE


def test_reimport_is_a_diff_insert_update_remove(db_session, run, protector, adazi):
    first = [person_row(BORN, i) for i in range(4)]
    run(csv_bytes(first), muni=adazi)
    before = persons(db_session)
    changed = list(first[1])
    changed[1] = "Mainīts Vārds"
    second = [first[0], tuple(changed), first[2], person_row(BORN, 10)]  # 3 removed, 10 new
    _, report = run(csv_bytes(second), muni=adazi)
    assert (report.inserted, report.updated, report.removed, report.unchanged) == (1, 1, 1, 2)
    after = persons(db_session)
    assert set(after) == {protector.lookup_hash(r[0]) for r in second}
    ref0 = protector.lookup_hash(first[0][0])
    assert after[ref0].id == before[ref0].id  # unchanged rows are kept, not rewritten
    assert after[protector.lookup_hash(changed[0])].name == "Mainīts Vārds"


def test_reimport_removes_only_within_the_municipality_imported(db_session, run, protector):
    adazi, riga = municipality(db_session), municipality(db_session, "0001000")
    run(csv_bytes([person_row(BORN, 1, atvk="0001000")]), muni=riga)
    run(csv_bytes([person_row(BORN, 2)]), muni=adazi)
    _, report = run(csv_bytes([person_row(BORN, 3)]), muni=adazi)
    assert report.removed == 1
    assert set(persons(db_session)) == {protector.lookup_hash(code_for(BORN, 1)),
                                        protector.lookup_hash(code_for(BORN, 3))}


def test_row_for_another_municipality_is_refused_in_a_municipal_import(run, adazi):
    _, report = run(csv_bytes([person_row(BORN, 1, atvk="0001000"), person_row(BORN, 2)]),
                    muni=adazi)
    assert [(p.line, p.kind) for p in report.problems] == [(2, Problem.OTHER_MUNICIPALITY)]
    assert report.inserted == 1


def test_malformed_rows_reported_with_line_numbers_and_skipped(db_session, run, adazi):
    rows = [
        person_row(BORN, 1),                                       # line 2
        ("161175-19990", "Bad Code", "1975-11-16", "LV", "0023000"),  # 3
        (code_for(BORN, 3), "", "1980-01-01", "LV", "0023000"),    # 4 no name
        (code_for(BORN, 4), "A", "1980-13-01", "LV", "0023000"),   # 5 bad date
        (code_for(BORN, 5), "A", "1981-01-01", "LV", "0023000"),   # 6 not the code's date
        (code_for(BORN, 6), "A", "1980-01-01", "Latvia", "0023000"),  # 7
        (code_for(BORN, 7), "A", "1980-01-01", "LV", "9999999"),   # 8 unknown ATVK
        person_row(BORN, 8),                                       # 9
    ]
    data = csv_bytes(rows) + b"only,three,columns\n"               # 10 wrong width
    _, report = run(data, muni=adazi)
    assert [(p.line, p.kind, p.field) for p in report.problems] == [
        (3, Problem.INVALID_CODE, "personal_code"),
        (4, Problem.MISSING_FIELD, "name"),
        (5, Problem.INVALID_DATE, "birth_date"),
        (6, Problem.BIRTH_DATE_MISMATCH, "birth_date"),
        (7, Problem.INVALID_CITIZENSHIP, "citizenship"),
        (8, Problem.UNKNOWN_MUNICIPALITY, "municipality"),
        (10, Problem.WRONG_FIELDS, None),
    ]
    assert report.applied and report.inserted == 2 and report.skipped == 7
    assert len(persons(db_session)) == 2


def test_abort_mode_applies_nothing_when_a_row_is_bad(db_session, run, adazi):
    run(csv_bytes([person_row(BORN, 1)]), muni=adazi)
    before = {(p.person_ref, p.name) for p in persons(db_session).values()}
    rows = [person_row(BORN, 2), ("bad", "X", "1980-01-01", "LV", "0023000")]
    history, report = run(csv_bytes(rows), muni=adazi, mode=ImportMode.ABORT)
    assert not report.applied and history.status == "aborted"
    assert report.problems[0].line == 3
    assert {(p.person_ref, p.name) for p in persons(db_session).values()} == before
    assert db_session.scalar(select(func.count()).select_from(StagedRow)) == 0
    assert db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())
                              ).first() == "register.import_aborted"


def test_a_bad_row_keeps_that_persons_current_record(db_session, run, protector, adazi):
    run(csv_bytes([person_row(BORN, 1), person_row(BORN, 2)]), muni=adazi)
    broken = (code_for(BORN, 2), "Nauja", "not-a-date", "LV", "0023000")
    _, report = run(csv_bytes([person_row(BORN, 1), broken]), muni=adazi)
    assert report.removed == 0
    assert protector.lookup_hash(code_for(BORN, 2)) in persons(db_session)


@pytest.mark.parametrize("header", [
    ("personal_code", "name", "birth_date", "citizenship"),
    ("personas_kods", "name", "birth_date", "citizenship", "municipality"),
    ("personal_code", "name", "birth_date", "citizenship", "municipality", "extra"),
    ("personal_code", "name", "name", "citizenship", "municipality"),
])
def test_wrong_header_is_refused_before_anything_is_written(db_session, run, adazi, header):
    data = csv_bytes([person_row(BORN, 1)[: len(header)]], header=header)
    with pytest.raises(ImportRefused) as err:
        run(data, muni=adazi)
    assert err.value.reason == "wrong_header"
    assert db_session.scalar(select(func.count()).select_from(PersonRecord)) == 0
    assert db_session.scalar(select(func.count()).select_from(RegisterImport)) == 0


def test_land_file_given_as_population_is_refused(run, adazi):
    data = csv_bytes([(code_for(BORN, 1), "80440010001", "0023000")], header=LAND_HEADER)
    with pytest.raises(ImportRefused) as err:
        run(data, muni=adazi)
    assert set(err.value.missing) == {"name", "birth_date", "citizenship"}
    assert err.value.unexpected == ("cadastral_number",)


def test_empty_file_is_refused(run):
    with pytest.raises(ImportRefused) as err:
        run(b"")
    assert err.value.reason == "empty"


def test_header_in_any_order_and_case_with_bom_is_accepted(run, db_session):
    header = ("Municipality", "NAME", "personal_code", "birth_date", "citizenship")
    row = person_row(BORN, 1)
    data = "\ufeff".encode() + csv_bytes([(row[4], row[1], row[0], row[2], row[3])],
                                         header=header)
    _, report = run(data)
    assert report.inserted == 1


def test_identical_duplicate_rows_are_reported_and_imported_once(db_session, run, adazi):
    row = person_row(BORN, 1)
    _, report = run(csv_bytes([row, person_row(BORN, 2), row]), muni=adazi,
                    mode=ImportMode.ABORT)
    assert report.applied and report.inserted == 2
    assert [(p.line, p.kind, p.other_line) for p in report.problems] == [
        (4, Problem.DUPLICATE, 2)]


def test_contradictory_rows_are_skipped_and_keep_the_existing_record(db_session, run,
                                                                     protector, adazi):
    row = person_row(BORN, 1)
    run(csv_bytes([row]), muni=adazi)
    other = (row[0], "Cits Vārds", row[2], row[3], row[4])
    _, report = run(csv_bytes([other, person_row(BORN, 2), row]), muni=adazi)
    assert sorted((p.line, p.kind) for p in report.problems) == [
        (2, Problem.CONTRADICTORY), (4, Problem.CONTRADICTORY)]
    stored = persons(db_session)[protector.lookup_hash(row[0])]
    assert stored.name == row[1] and report.removed == 0


def test_contradictory_rows_abort_in_abort_mode(db_session, run, adazi):
    row = person_row(BORN, 1)
    other = (row[0], "Cits Vārds", row[2], row[3], row[4])
    _, report = run(csv_bytes([row, other]), muni=adazi, mode=ImportMode.ABORT)
    assert not report.applied and len(persons(db_session)) == 0


def test_quoted_multiline_field_keeps_line_numbers_right(run):
    data = csv_bytes([person_row(BORN, 1)]) + \
        b'"' + code_for(BORN, 2).encode() + b'","Two\nLines",bad,LV,0023000\n' + \
        b"x,y,z,w,v\n"
    _, report = run(data)
    assert [(p.line, p.kind) for p in report.problems] == [
        (3, Problem.INVALID_DATE), (5, Problem.INVALID_CODE)]


@pytest.mark.parametrize(("encode", "bad_line"), [(json_array_bytes, 3), (json_lines_bytes, 2)])
def test_json_array_and_json_lines(db_session, run, encode, bad_line):
    rows = [person_row(BORN, 1), ("bad", "X", "1980-01-01", "LV", "0023000"),
            person_row(BORN, 3)]
    _, report = run(encode(rows), fmt=FileFormat.JSON)
    assert report.inserted == 2
    assert [(p.line, p.kind) for p in report.problems] == [(bad_line, Problem.INVALID_CODE)]


def test_json_lines_syntax_error_is_a_row_problem(run):
    data = json_lines_bytes([person_row(BORN, 1)]) + b'{"personal_code": \n' + \
        json_lines_bytes([person_row(BORN, 2)])
    _, report = run(data, fmt=FileFormat.JSON)
    assert [(p.line, p.kind) for p in report.problems] == [(2, Problem.NOT_JSON)]
    assert report.inserted == 2


def test_broken_json_array_is_refused_and_nothing_applied(db_session, run):
    data = json_array_bytes([person_row(BORN, 1), person_row(BORN, 2)])[:-8]
    with pytest.raises(ImportRefused) as err:
        run(data, fmt=FileFormat.JSON)
    assert err.value.reason == "not_json"
    assert len(persons(db_session)) == 0


def test_json_with_wrong_fields_is_refused(run):
    with pytest.raises(ImportRefused):
        run(b'[{"code": "x"}]', fmt=FileFormat.JSON)


def test_land_register_import_diff(db_session, run, protector, adazi):
    code = code_for(BORN, 1)
    rows = [(code, "80440010001", "0023000"), (code, "8044 001 0002", "0023000"),
            (code_for(BORN, 2), "80440010003", "0023000"), (code, "12", "0023000")]
    _, report = run(csv_bytes(rows, header=LAND_HEADER), source=RegisterSource.LAND, muni=adazi)
    assert report.inserted == 3
    assert [(p.line, p.kind) for p in report.problems] == [(5, Problem.INVALID_CADASTRAL)]
    _, report = run(csv_bytes(rows[:1], header=LAND_HEADER), source=RegisterSource.LAND,
                    muni=adazi)
    assert (report.inserted, report.removed, report.unchanged) == (0, 2, 1)
    owned = db_session.scalars(select(LandOwnerRecord)).all()
    assert [(o.person_ref, o.cadastral_number) for o in owned] == [
        (protector.lookup_hash(code), "80440010001")]


def test_failure_while_applying_leaves_register_unchanged(db_session, run, adazi, monkeypatch):
    run(csv_bytes([person_row(BORN, 1)]), muni=adazi)
    before = {(p.person_ref, p.name, p.residence_municipality_id)
              for p in persons(db_session).values()}
    original = services.apply_diff

    def exploding(session, *args):
        original(session, *args)  # everything written ...
        raise RuntimeError("disk full")  # ... then a failure before the end

    monkeypatch.setattr(services, "apply_diff", exploding)
    with pytest.raises(RuntimeError):
        run(csv_bytes([person_row(BORN, 2)]), muni=adazi)
    db_session.expire_all()
    assert {(p.person_ref, p.name, p.residence_municipality_id)
            for p in persons(db_session).values()} == before


# Statements and plans -------------------------------------------------------------------------

def _statements_of(db_session, action):
    """``action()``'s result and the SQL statements it sent, staging inserts (one per batch, by
    design) left out."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.startswith("INSERT INTO register_import_staging"):
            seen.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return result, seen


def test_reimport_statements_do_not_grow_with_the_rows(db_session, run, adazi):
    """The diff is set-based: no look-up of the register per batch (batches of 2 here)."""
    counts = []
    for first, size in ((0, 6), (100, 18)):  # the second pass also removes the first's people
        people = [person_row(BORN, first + i) for i in range(size)]
        run(csv_bytes(people), muni=adazi, batch_size=2)
        changed = [people[0][:1] + ("Mainīts",) + people[0][2:], *people[2:],
                   person_row(BORN, first + 99)]
        (_, report), statements = _statements_of(
            db_session, lambda changed=changed: run(csv_bytes(changed), muni=adazi, batch_size=2))
        assert (report.inserted, report.updated, report.removed) == (1, 1, 1)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_import_plans_every_statement_afresh_on_postgresql(db_session, run, adazi):
    """psycopg prepares repeated statements; PostgreSQL may then keep a generic plan made when
    the register was empty (a per-batch look-up took 8 s instead of 17 ms that way). The import
    forces custom plans for its own statements, finds new records through the register's index
    (never rescanning the growing register) and restores both settings afterwards."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    seen = {}

    def record(_conn, cursor, statement, *_args):
        for table in ("UPDATE register_persons", "INSERT INTO register_persons"):
            if statement.startswith(table):
                seen[table] = tuple(cursor.connection.execute(
                    "SELECT current_setting('plan_cache_mode'), current_setting('enable_seqscan')"
                ).fetchone())

    engine = db_session.get_bind().engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        run(csv_bytes([person_row(BORN, i) for i in range(3)]), muni=adazi)
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert seen == {"UPDATE register_persons": ("force_custom_plan", "on"),
                    "INSERT INTO register_persons": ("force_custom_plan", "off")}
    assert db_session.execute(text(
        "SELECT current_setting('plan_cache_mode'), current_setting('enable_seqscan')")
    ).one() == ("auto", "on")


# Random files never half-apply --------------------------------------------------------------

_row = st.one_of(
    st.tuples(st.integers(0, 20), st.sampled_from(["A", "B"])).map(
        lambda t: ("ok", t[0], t[1])),
    st.sampled_from([("bad_code",), ("bad_date",), ("short",)]),
)


def _random_line(spec):
    if spec[0] == "ok":
        return person_row(BORN, spec[1], name=f"Persona {spec[2]}")
    if spec[0] == "bad_code":
        return ("12345678901", "X", "1980-01-01", "LV", "0023000")
    if spec[0] == "bad_date":
        return (code_for(BORN, 99), "X", "31.12.1980", "LV", "0023000")
    return ("only", "three", "cols")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(st.integers(0, 20), max_size=8, unique=True),
       specs=st.lists(_row, max_size=25), mode=st.sampled_from(list(ImportMode)))
def test_random_files_apply_fully_or_not_at_all(db_session, run, protector, initial, specs,
                                                mode):
    nested = db_session.begin_nested()
    try:
        if initial:
            run(csv_bytes([person_row(BORN, i, name="Persona A") for i in initial]))
        before = {(p.person_ref, p.name) for p in persons(db_session).values()}
        _, report = run(csv_bytes([_random_line(s) for s in specs]), mode=mode, batch_size=3)
        after = {(p.person_ref, p.name) for p in persons(db_session).values()}
        good = [s for s in specs if s[0] == "ok"]
        names: dict[int, set[str]] = {}
        for s in good:
            names.setdefault(s[1], set()).add(s[2])
        has_error = any(s[0] != "ok" for s in specs) or any(len(v) > 1 for v in names.values())
        if mode == ImportMode.ABORT and has_error:
            assert not report.applied and after == before
        else:
            assert report.applied
            expected = {(protector.lookup_hash(code_for(BORN, n)), f"Persona {v.pop()}")
                        for n, v in names.items() if len(v) == 1}
            # Contradicted people keep what they had; bad_date rows protect serial 99.
            kept = {(ref, name) for ref, name in before if ref in {
                protector.lookup_hash(code_for(BORN, n)) for n, v in names.items() if len(v) > 1
            } | ({protector.lookup_hash(code_for(BORN, 99))}
                 if any(s[0] == "bad_date" for s in specs) else set())}
            assert after == expected | kept
    finally:
        nested.rollback()
