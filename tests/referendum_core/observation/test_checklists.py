"""Checklist answers: declared items only, each observer's corrections appended, conflicts
between observers, the version a referendum pins, idempotent submissions."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from referendum_core.observation import checklists, queries
from referendum_core.observation.exceptions import (
    AppendOnly,
    InvalidAnswer,
    InvalidObservationPhoto,
    InvalidSubmissionKey,
    KeyReused,
    NotObserverHere,
)
from referendum_core.observation.models import ChecklistAnswer, ChecklistPin, ObserverSubmission
from referendum_core.observation.services import AnswerInput, pinned_version, submit_checklist
from tests.case_factories import NOT_AN_IMAGE, PNG


def everywhere(_referendum_id, _station_id):
    return True


def answer(scene, observer, *answers, key=None, may_observe=everywhere):
    return submit_checklist(
        scene.session, scene.clock, observer, referendum_id=scene.referendum.id,
        polling_station_id=scene.station.id, key=key or str(uuid.uuid4()),
        answers=[AnswerInput(*a) for a in answers], may_observe=may_observe)


def test_answers_are_checked_against_the_declared_items(scene):
    observer = scene.observers[0]
    with pytest.raises(InvalidAnswer):
        answer(scene, observer, ("no_such_item", True))
    with pytest.raises(InvalidAnswer):
        answer(scene, observer, ("seals_intact", 3))
    with pytest.raises(InvalidAnswer):
        answer(scene, observer, ("queue_length", -1))
    with pytest.raises(InvalidAnswer):
        answer(scene, observer, ("queue_length", True))
    with pytest.raises(InvalidSubmissionKey):
        answer(scene, observer, ("seals_intact", True), key="not-a-uuid")
    with pytest.raises(InvalidObservationPhoto):
        answer(scene, observer, ("seals_intact", True, NOT_AN_IMAGE))
    receipt = answer(scene, observer, ("seals_intact", True, PNG), ("queue_length", 12))
    assert receipt.is_new and [a.value for a in receipt.submission.answers] == [True, 12]
    assert receipt.submission.answers[0].photo.content_type == "image/png"


def test_art18_3_only_an_observer_of_the_station_sends_answers(scene):
    with pytest.raises(NotObserverHere):
        answer(scene, scene.observers[0], ("seals_intact", True),
               may_observe=lambda _r, _s: False)
    assert scene.session.scalar(select(ObserverSubmission.id)) is None


def test_the_same_key_twice_is_received_once(scene):
    key = str(uuid.uuid4())
    first = answer(scene, scene.observers[0], ("seals_intact", True), key=key)
    again = answer(scene, scene.observers[0], ("seals_intact", True), key=key.upper())
    assert not again.is_new and again.submission.id == first.submission.id
    assert len(scene.session.scalars(select(ChecklistAnswer)).all()) == 1


def test_the_same_key_with_other_answers_is_refused_and_nothing_is_written(scene):
    key = str(uuid.uuid4())
    answer(scene, scene.observers[0], ("seals_intact", True), key=key)
    with pytest.raises(KeyReused):
        answer(scene, scene.observers[0], ("seals_intact", False), key=key)
    with pytest.raises(KeyReused):  # yes is not the number 1
        answer(scene, scene.observers[0], ("seals_intact", 1), key=key)
    assert len(scene.session.scalars(select(ChecklistAnswer)).all()) == 1


def test_a_second_answer_corrects_the_first_and_both_are_kept(scene):
    observer = scene.observers[0]
    first = answer(scene, observer, ("ballot_box_empty", False)).submission.answers[0]
    second = answer(scene, observer, ("ballot_box_empty", True)).submission.answers[0]
    assert second.corrects_id == first.id
    entries = queries.station_entries(scene.session, scene.referendum.id, scene.station.id)
    assert [(e.value, e.corrects_id) for e in entries] == [(False, None), (True, first.id)]
    current = scene.session.scalars(queries.current_answers(scene.referendum.id)).all()
    assert [a.id for a in current] == [second.id]


def test_two_observers_disagreeing_make_a_conflict_until_one_corrects(scene):
    one, two = scene.observers
    answer(scene, one, ("seals_intact", True), ("queue_length", 5))
    answer(scene, two, ("seals_intact", False), ("queue_length", 5))
    found = queries.conflicts(scene.session, municipality_ids={scene.municipality.id})
    assert [(c.polling_station_id, c.item_key, c.answers) for c in found] == [
        (scene.station.id, "seals_intact", {one.id: True, two.id: False})]
    assert queries.conflicts(scene.session, municipality_ids={scene.municipality.id + 1}) == []
    answer(scene, two, ("seals_intact", True))
    assert queries.conflicts(scene.session, referendum_id=scene.referendum.id) == []


def test_a_referendum_keeps_the_version_it_pinned(scene, monkeypatch):
    answer(scene, scene.observers[0], ("seals_intact", True))
    pinned = pinned_version(scene.session, scene.referendum.id)
    assert pinned == checklists.CURRENT_VERSION
    newer = checklists.Checklist(pinned + 1, checklists.VERSIONS[1].sections)
    monkeypatch.setitem(checklists.VERSIONS, pinned + 1, newer)
    monkeypatch.setattr(checklists, "CURRENT_VERSION", pinned + 1)
    second = answer(scene, scene.observers[1], ("seals_intact", True)).submission.answers[0]
    assert second.version == pinned
    assert scene.session.get(ChecklistPin, scene.referendum.id).version == pinned
    # Versions differ in their items: version 1 did not ask about observers admitted.
    with pytest.raises(InvalidAnswer):
        checklists.checklist(1).item("observers_admitted")


def test_sent_answers_are_never_updated_by_the_service_layer_or_the_database(scene):
    sent = answer(scene, scene.observers[0], ("seals_intact", True)).submission
    row = sent.answers[0]
    row.value_bool = False
    with pytest.raises(AppendOnly):
        scene.session.flush()
    scene.session.expire_all()
    with pytest.raises(DBAPIError, match="append-only"):
        with scene.session.begin_nested():
            scene.session.execute(text(
                "UPDATE checklist_answers SET value_bool = :v WHERE id = :id"),
                {"v": False, "id": row.id})
    with pytest.raises(DBAPIError, match="append-only"):
        with scene.session.begin_nested():
            scene.session.execute(text(
                "UPDATE observer_submissions SET polling_station_id = polling_station_id"))
    assert scene.session.get(ChecklistAnswer, row.id).value_bool is True


def test_numbers_conflict_only_beyond_their_items_tolerance(scene):
    """A queue counted a moment apart may differ by up to its tolerance; protocol figures
    (tolerance 0) conflict on any difference."""
    one, two = scene.observers
    tolerance = checklists.checklist(checklists.CURRENT_VERSION).item("queue_length").tolerance
    assert tolerance == checklists.QUEUE_TOLERANCE > 0
    answer(scene, one, ("queue_length", 20), ("protocol_voters", 300))
    answer(scene, two, ("queue_length", 20 + tolerance), ("protocol_voters", 300))
    assert queries.conflicts(scene.session, referendum_id=scene.referendum.id) == []
    answer(scene, two, ("protocol_voters", 301))
    assert [c.item_key for c in queries.conflicts(
        scene.session, referendum_id=scene.referendum.id)] == ["protocol_voters"]
    answer(scene, two, ("queue_length", 20 + tolerance + 1))
    assert sorted(c.item_key for c in queries.conflicts(
        scene.session, referendum_id=scene.referendum.id)) == ["protocol_voters",
                                                               "queue_length"]


def test_every_item_declares_a_tolerance_zero_unless_said_otherwise():
    for version in checklists.VERSIONS.values():
        for item in version.items().values():
            expected = checklists.QUEUE_TOLERANCE if item.key == "queue_length" else 0
            assert item.tolerance == expected, item.key
