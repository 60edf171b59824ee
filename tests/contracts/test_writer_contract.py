"""Every writer `writers_for("all")` returns, through the shipped `WriterContract`.

A new writer joins by being registered with the writers; nothing here changes.
"""

from __future__ import annotations

import pytest

from qasr.adapters.writers import writers_for
from qasr.ports import Writer
from qasr.testing.contracts import WriterContract


class TestEveryWriter(WriterContract):
    @pytest.fixture(scope="class", params=writers_for("all"), ids=lambda writer: writer.format_name)
    def writer(self, request: pytest.FixtureRequest) -> Writer:
        writer: Writer = request.param
        return writer
