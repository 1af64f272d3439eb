"""Reports from the observer app: one case per idempotency key, corrections appended and
pointing to the report they correct, the report's text never rewritten."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from referendum_core.cases.models import Case
from referendum_core.observation import queries
from referendum_core.observation.exceptions import AlreadyCorrected, AppendOnly, NotCorrectable
from referendum_core.observation.services import corrections_of, file_report


def report(scene, observer, key=None, **kw):
    args = dict(referendum_id=scene.referendum.id, polling_station_id=scene.station.id,
                key=key or str(uuid.uuid4()), category="ballot_box", severity="critical",
                description="Urna nav aizzīmogota", may_observe=lambda _r, _s: True,
                is_accredited=lambda _m: True)
    args.update(kw)
    return file_report(scene.session, scene.clock, observer, **args)


def cases(scene):
    return scene.session.scalar(select(func.count(Case.id)).where(
        Case.type == "observer_report"))


def test_a_report_sent_twice_with_one_key_is_one_case(scene):
    key = str(uuid.uuid4())
    first = report(scene, scene.observers[0], key)
    again = report(scene, scene.observers[0], key)
    assert first.is_new and not again.is_new
    assert again.submission.case_id == first.submission.case_id
    assert cases(scene) == 1
    # Another observer's identical key is their own submission.
    assert report(scene, scene.observers[1], key).is_new and cases(scene) == 2


def test_a_critical_report_waits_for_the_commission_until_triaged(scene):
    case_id = report(scene, scene.observers[0]).submission.case_id
    report(scene, scene.observers[0], severity="low")
    waiting = queries.critical_reports_waiting(scene.session, {scene.municipality.id})
    assert [c.id for c in waiting] == [case_id]
    assert queries.critical_reports_waiting(scene.session, {scene.municipality.id + 1}) == []


def test_a_correction_is_a_new_report_pointing_to_the_old_one(scene):
    observer = scene.observers[0]
    old = report(scene, observer).submission.case_id
    new = report(scene, observer, description="Urna bija aizzīmogota; kļūdījos",
                 severity="low", corrects_case_id=old).submission.case_id
    assert corrections_of(scene.session, old) == (None, new)
    assert corrections_of(scene.session, new) == (old, None)
    assert scene.session.get(Case, old).observer_report.description == "Urna nav aizzīmogota"
    with pytest.raises(AlreadyCorrected):
        report(scene, observer, corrects_case_id=old)
    with pytest.raises(NotCorrectable):  # only one's own reports
        report(scene, scene.observers[1], corrects_case_id=new)


def test_a_sent_report_is_never_rewritten(scene):
    case = scene.session.get(Case, report(scene, scene.observers[0]).submission.case_id)
    case.observer_report.severity = "low"
    with pytest.raises(AppendOnly):
        scene.session.flush()
    scene.session.expire_all()
    with pytest.raises(DBAPIError, match="append-only"):
        with scene.session.begin_nested():
            scene.session.execute(text(
                "UPDATE case_observer_reports SET severity = 'low' WHERE case_id = :id"),
                {"id": case.id})
    assert scene.session.get(Case, case.id).observer_report.severity == "critical"


def test_a_corrected_chain_waits_for_the_commission_by_its_latest_version(scene):
    """A critical report corrected down to "low" no longer waits as critical; a "low" report
    corrected up to critical waits (as its correction)."""
    observer = scene.observers[0]
    municipalities = {scene.municipality.id}
    critical = report(scene, observer).submission.case_id
    assert [c.id for c in queries.critical_reports_waiting(scene.session, municipalities)] == [
        critical]
    report(scene, observer, severity="low", corrects_case_id=critical)
    assert queries.critical_reports_waiting(scene.session, municipalities) == []
    low = report(scene, observer, severity="low").submission.case_id
    raised = report(scene, observer, severity="critical",
                    corrects_case_id=low).submission.case_id
    assert [c.id for c in queries.critical_reports_waiting(scene.session, municipalities)] == [
        raised]
