"""Job stores for `qasr serve`: SQLite on disk (the server's), and in memory (tests, embedding)."""

from qasr.adapters.jobs.memory_store import MemoryJobStore
from qasr.adapters.jobs.sqlite_store import SqliteJobStore

__all__ = ["MemoryJobStore", "SqliteJobStore"]
