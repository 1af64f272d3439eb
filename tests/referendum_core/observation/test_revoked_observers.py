"""Art. 18(3), 20(3): an observer whose accreditation at a station of a referendum is revoked
no longer observes there, so their answers no longer count towards the station's conflicts
and checklist progress (the domain queries every view reads); they are still kept and
returned set aside."""
from __future__ import annotations

from portal.accounts import services
from portal.accounts.models import Role
from referendum_core.observation import queries
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
from tests.referendum_core.observation.test_checklists import answer


def accredit(scene, observer, status):
    row = ObserverAccreditation(
        case_id=scene.referendum.case_id, referendum_id=scene.referendum.id,
        polling_station_id=scene.station.id, kind="media", full_name=observer.display_name,
        email=observer.email, status=status, user_id=observer.id,
        requested_at=scene.clock.now())
    scene.session.add(row)
    scene.session.flush()
    return row


def test_art18_3_a_revoked_observers_answers_make_no_conflict_and_no_progress(scene):
    one, two = scene.observers
    answer(scene, one, ("seals_intact", True))
    answer(scene, two, ("seals_intact", False), ("queue_length", 4))
    assert len(queries.conflicts(scene.session, referendum_id=scene.referendum.id)) == 1
    assert queries.progress(scene.session, scene.referendum.id, scene.station.id).answered == 2

    row = accredit(scene, two, AccreditationStatus.REVOKED)
    assert queries.conflicts(scene.session, referendum_id=scene.referendum.id) == []
    assert queries.conflicts(scene.session, municipality_ids={scene.municipality.id}) == []
    assert queries.progress(scene.session, scene.referendum.id, scene.station.id).answered == 1
    assert queries.revoked_observers(scene.session, scene.referendum.id,
                                     scene.station.id) == {two.id}

    # Approved again at the station (a new request), their answers count again., their answers count again.
    row.status = AccreditationStatus.REJECTED
    accredit(scene, two, AccreditationStatus.APPROVED)
    found = queries.conflicts(scene.session, referendum_id=scene.referendum.id)
    assert [(c.item_key, c.answers, c.set_aside) for c in found] == [
        ("seals_intact", {one.id: True, two.id: False}, {})]
    assert queries.revoked_observers(scene.session, scene.referendum.id,
                                     scene.station.id) == set()


def test_art18_3_a_conflict_shows_the_revoked_answer_set_aside(scene):
    one, two = scene.observers
    three = services.create_user(scene.session, scene.clock, None,
                                 email="observer3@observe.example.lv",
                                 display_name="Observer 3", password=None)
    services.grant_membership(scene.session, scene.clock, None, three, Role.OBSERVER,
                              municipality_id=scene.municipality.id)
    answer(scene, one, ("seals_intact", True))
    answer(scene, two, ("seals_intact", False))
    answer(scene, three, ("seals_intact", True))
    accredit(scene, three, AccreditationStatus.REVOKED)
    [conflict] = queries.conflicts(scene.session, referendum_id=scene.referendum.id)
    assert conflict.answers == {one.id: True, two.id: False}
    assert conflict.set_aside == {three.id: True}
