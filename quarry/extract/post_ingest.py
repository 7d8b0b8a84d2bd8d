"""What follows storing new mail: fact extraction over what is not yet processed, then the search index.

Kept apart from `pipeline.ingest` so storing messages never waits on a model, and so extraction can be
re-run on its own (a different extractor, a better model) without reading the mailbox again.
"""

from __future__ import annotations

from pathlib import Path

from quarry.extract.calendar_links import link_calendar
from quarry.extract.extraction import ExtractionSummary, Progress, extract_pending
from quarry.store.db import connect
from quarry.store.search import refresh_search_index


def extract_and_index(
    db_path: Path, extractor: str = "rules", model: str | None = None, progress: Progress | None = None
) -> ExtractionSummary | None:
    """Run `extractor` (rules|llm|auto; 'none' skips extraction), link calendar entries to the events found,
    and refresh full-text search."""
    con = connect(db_path)
    try:
        summary = None if extractor == "none" else extract_pending(con, extractor, model, progress)
        link_calendar(con)
        refresh_search_index(con)
        return summary
    finally:
        con.close()
