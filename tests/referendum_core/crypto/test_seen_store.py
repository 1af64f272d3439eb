"""The verifier keeps what it must remember across the board (aliases, re-votes, alphas) on
disk, so a record of any size verifies in bounded memory (a million ballots)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto.seen_store import SeenStore, merged_ascending
from referendum_core.crypto.simulate import simulate
from referendum_core.crypto.verify import RecordVerifier, verify_record_file


@pytest.fixture(scope="module")
def record_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate(60, 2, revote_share=0.3, audited=2, excluded=5, seed="seen-store")
    path = tmp_path_factory.mktemp("seen") / "record.json"
    path.write_text(json.dumps(sim.record))
    return path


def test_store_answers_revotes_and_replays() -> None:
    store = SeenStore()
    try:
        store.begin()
        assert store.last_of("a") is None
        store.set_last("a", 0, None)
        store.set_last("b", 1, None)
        store.set_last("a", 2, store.last_of("a"))
        assert store.add_alpha(b"x" * 32) and not store.add_alpha(b"x" * 32)
        store.commit()
        assert (store.aliases, store.superseded) == (2, 1)
        assert store.is_superseded(0) and not store.is_superseded(2)
        assert list(store.superseded_positions()) == [0]
    finally:
        store.close()


def test_merged_ascending_unions_sorted_streams() -> None:
    assert list(merged_ascending([1, 4, 9], [2, 4, 10], [])) == [1, 2, 4, 9, 10]


def test_verifier_holds_no_per_ballot_state_in_memory(record_file: Path, monkeypatch: Any
                                                      ) -> None:
    """After the board, nothing in the verifier's own attributes grows with the ballots."""
    seen: dict[str, Any] = {}
    original = RecordVerifier.finish

    def spy(self: RecordVerifier, *args: Any) -> Any:
        summary = original(self, *args)
        seen.update({k: v for k, v in vars(self).items()
                     if isinstance(v, set | dict | list) and k != "values"})
        seen["store"] = self.store
        return summary

    monkeypatch.setattr(RecordVerifier, "finish", spy)
    summary = verify_record_file(str(record_file))
    assert summary.voters == 60 and summary.superseded > 0 and summary.excluded_on_board > 0
    assert all(len(v) <= 8 for k, v in seen.items() if k != "store"), {
        k: len(v) for k, v in seen.items() if k != "store"}
    assert seen["store"].aliases == 60
