"""The bundled sample issue: `sample_path`, and `ensure_sample` to index it into an empty index."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

log = logging.getLogger("newsqa.sample")

SAMPLE_NAME = "zjrb-2023-08-01.txt"


def sample_path():
    """The bundled sample issue (a Traversable; a real file for an installed package)."""
    return resources.files("qa") / "samples" / SAMPLE_NAME


def ensure_sample(index) -> None:
    """Index the bundled sample issue when the index is empty, so a fresh install answers questions."""
    if index.issues():
        return
    log.info("empty index at %s: indexing the bundled sample issue %s (takes a few seconds)", index.location, SAMPLE_NAME)
    with resources.as_file(sample_path()) as path:
        result = index.add(Path(path))
    log.info("sample indexed: %s, %d paragraphs", result.issue_id, result.paragraphs)
