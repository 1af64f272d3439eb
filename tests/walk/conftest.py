from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.living_demo import start_story_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The living demo served for one test module: (server, real clock, story ids)."""
    yield from start_story_server(tmp_path_factory.mktemp("walk"))
