"""Benchmarks of the voter register import and initiative signing.

    python bench/bench_register.py                        # 500 000 rows, 2 000 signatures, SQLite
    python bench/bench_register.py --rows 50000 --signatures 500        # quick
    python bench/bench_register.py --db postgresql://postgres@127.0.0.1:5432/bench6

Prints import rows/second for a first import and a re-import (a diff with 1 % changed,
1 % removed, 1 % new rows) with wall and CPU seconds (CPU shows the work done when the machine
is shared), the process's peak memory (ru_maxrss; with ``--tracemalloc`` also the peak of Python
allocations during each import) and online signatures per second. The database is migrated from empty (SQLite: a temporary file). Timings are not
asserted anywhere; this is for the README and for regressions.
"""
from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stdnum.lv.pvn import calc_check_digit_pers  # noqa: E402

import portal.models  # noqa: E402,F401 - every table on the metadata
from portal.database import make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from referendum_core import sealing  # noqa: E402
from referendum_core.calendar import WorkingDayCalendar  # noqa: E402
from referendum_core.clock import FixedClock  # noqa: E402
from referendum_core.initiatives import (  # noqa: E402
    Subject,
    decide_initiative,
    publish_due_initiatives,
    submit_initiative,
)
from referendum_core.organisation import Municipality, sync_organisations  # noqa: E402
from referendum_core.personal_code import PersonalCodeProtector  # noqa: E402
from referendum_core.register_import import (  # noqa: E402
    FileFormat,
    ImportMode,
    RegisterSource,
    import_register,
)
from referendum_core.signatures import sign_online  # noqa: E402

ATVK = "0023000"

TAG_KEY = bytes(32)  # the key of the board's person tags (a test value)
# Case texts are sealed at rest (referendum_core.sealing): a key for this process (a test value).
sealing.configure(sealer=sealing.ColumnSealer(bytes(range(32))))


def code(n: int) -> str:
    """A valid personal code: old format for most, new ``32…`` format for every tenth."""
    if n % 10 == 0:
        body = f"32{n:08d}"
    else:
        born = date(1940, 1, 1) + timedelta(days=n % 20000)
        # (birth day, serial) is unique for the first 20 million n.
        body = f"{born:%d%m%y}{1 if born.year < 2000 else 2}{(n // 20000) % 1000:03d}"
    return body + calc_check_digit_pers(body)


def born_of(n: int) -> str:
    return (date(1940, 1, 1) + timedelta(days=n % 20000)).isoformat()


def write_extract(path: Path, rows: int, *, shift: int = 0) -> None:
    """Rows 0..rows-1; with ``shift`` the first 1 % is renamed, 1 % dropped, 1 % added."""
    pct = max(1, rows // 100)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["personal_code", "name", "birth_date", "citizenship", "municipality"])
        for n in range(rows + (pct if shift else 0)):
            if shift and pct <= n < 2 * pct:
                continue  # removed
            name = f"Persona {n}" + (" (mainīts)" if shift and n < pct else "")
            writer.writerow([code(n), name, born_of(n), "LV", ATVK])


def run(rows: int, signatures: int, db: str | None = None, *, echo: bool = False,
        trace_memory: bool = False) -> dict[str, float]:
    """Import ``rows`` (first import, then a re-import diff), then sign ``signatures`` times;
    returns rows/s of each import, the process's peak memory (MiB) and signatures/s. ``db``
    should be empty or throw-away (PostgreSQL: its public schema is recreated)."""
    say = print if echo else (lambda *_a, **_k: None)
    tmp = Path(tempfile.mkdtemp(prefix="bench-register-"))
    url = db or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if not url.startswith("sqlite"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    protector = PersonalCodeProtector(b"bench-data-key-" + b"x" * 32)
    clock = FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    calendar = WorkingDayCalendar()
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()

    first, second = tmp / "first.csv", tmp / "second.csv"
    write_extract(first, rows)
    write_extract(second, rows, shift=1)
    figures: dict[str, float] = {}
    say(f"rows: {rows}  database: {engine.dialect.name}")
    for key, label, path in (("first", "first import", first),
                             ("reimport", "re-import (diff)", second)):
        with Session(engine) as session:
            muni = session.query(Municipality).filter_by(atvk_code=ATVK).one()
            if trace_memory:
                tracemalloc.start()
            started, cpu_started = time.perf_counter(), time.process_time()
            with path.open("rb") as handle:
                _, report = import_register(
                    session, clock, None, protector, RegisterSource.POPULATION, handle,
                    file_format=FileFormat.CSV, mode=ImportMode.CONTINUE, municipality=muni)
            session.commit()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            heap = ""
            if trace_memory:
                figures[f"{key}_heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
                heap = f"  Python heap peak {figures[f'{key}_heap_peak_mib']:.0f} MiB"
                tracemalloc.stop()
        figures[f"{key}_rows_per_s"] = report.rows_read / elapsed
        figures[f"{key}_cpu_s"] = cpu
        say(f"{label:18s} {report.rows_read / elapsed:10.0f} rows/s  {elapsed:6.1f} s "
            f"(CPU {cpu:5.1f} s)  inserted {report.inserted} updated {report.updated} "
            f"removed {report.removed} unchanged {report.unchanged} "
            f"problems {report.problem_count}{heap}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["peak_mib"] = peak_kib / 1024
    say(f"peak memory (ru_maxrss): {peak_kib / 1024:.0f} MiB")

    with Session(engine) as session:
        muni = session.query(Municipality).filter_by(atvk_code=ATVK).one()
        muni.voters_at_last_election = rows
        refs = [protector.lookup_hash(code(n)) for n in range(3 * max(1, rows // 100),
                                                              rows)][:signatures + 1]
        # A residents' initiative (Art. 7(3)): a council's own initiative collects no
        # signatures (Art. 8(2)). The last of the people is its applicant.
        initiative = submit_initiative(
            session, clock, calendar, None, municipality=muni, subject=Subject.STRATEGY,
            question="Vai atbalstāt?", reasons="Bench.", basis_date=date(2026, 2, 1),
            person_ref=refs.pop())
        decide_initiative(session, clock, calendar, None, initiative, can=True)
        clock.set(datetime(2026, 3, 5, 8, tzinfo=UTC))
        publish_due_initiatives(session, clock, calendar)
        session.commit()
        started = time.perf_counter()
        for ref in refs:
            sign_online(session, clock, None, initiative, ref, tag_key=TAG_KEY)
            session.commit()  # one transaction per signature, as in the web request
        elapsed = time.perf_counter() - started
    figures["signatures_per_s"] = len(refs) / elapsed if refs else 0.0
    say(f"online signing      {figures['signatures_per_s']:10.0f} signatures/s  "
        f"({len(refs)} signed, one commit each)")
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--signatures", type=int, default=2000)
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite temp file)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations during the imports (slower)")
    args = parser.parse_args()
    run(args.rows, args.signatures, args.db, echo=True, trace_memory=args.tracemalloc)


if __name__ == "__main__":
    main()
