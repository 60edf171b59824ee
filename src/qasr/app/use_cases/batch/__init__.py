"""Bulk transcription (`qasr batch`): the job plan, resuming, failure isolation and the results
manifest, apart from where the decoding runs (this process, or a Ray actor pool)."""

from qasr.app.use_cases.batch.decode import FileOutcome, GroupWorker, transcribe_files
from qasr.app.use_cases.batch.job import BatchProgress, BatchSummary, run_batch
from qasr.app.use_cases.batch.plan import BatchItem, collect_items, output_paths
from qasr.app.use_cases.batch.results import RESULTS_NAME, ResultsLog, is_done, read_rows
from qasr.app.use_cases.batch.runners import BatchRunner, LocalRunner, PoolRunner, WorkerPool

__all__ = [
    "RESULTS_NAME",
    "BatchItem",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "FileOutcome",
    "GroupWorker",
    "LocalRunner",
    "PoolRunner",
    "ResultsLog",
    "WorkerPool",
    "collect_items",
    "is_done",
    "output_paths",
    "read_rows",
    "run_batch",
    "transcribe_files",
]
