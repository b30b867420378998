"""migrate: copy an embedded index into a Milvus store, vectors included (no re-embedding), and check the counts."""

from __future__ import annotations

from collections.abc import Callable

from qa.errors import IndexMismatchError, NewsQAError


def migrate(source, target, progress: Callable[[int], None] | None = None) -> dict:
    """Copy every issue of an embedded index into a Milvus store.

    An issue the target already holds with the same content is skipped, so a migration that was
    interrupted can be run again; each issue is written as one generation (whole or absent).

    Args:
        source: the embedded store (``qa.index.NewsIndex``), read only.
        target: the ``qa.milvus_store.MilvusStore`` to fill.
        progress: called with the paragraphs of each issue copied or skipped.

    Returns:
        ``{"issues", "copied", "skipped", "paragraphs", "vectors", "embedded"}``: counts in the
        source, issues written and skipped, and windows that had to be embedded again (a FAISS
        layout that cannot give a vector back).

    Raises:
        IndexMismatchError: the two stores use different embedding models.
        NewsQAError: the target's counts differ from the source's after the copy.
    """
    model = source.model_name
    if model is None:
        raise NewsQAError(f"{source.location} holds no issues: nothing to migrate")
    if target.encoder.name != model:
        raise IndexMismatchError(f"{source.location} was built with {model!r}, {target.location} with "
                                 f"{target.encoder.name!r}: vectors of two models cannot share a store")
    held = {i["issue_id"]: i["sha256"] for i in target.issues()}
    expected: dict[str, tuple[int, int]] = {}
    copied = skipped = embedded = 0
    for record in source.export_issues():
        issue = record["issue"]
        expected[issue["issue_id"]] = (len(record["paragraphs"]), len(record["windows"]))
        if held.get(issue["issue_id"]) == issue["sha256"]:
            skipped += 1
            if progress:
                progress(len(record["paragraphs"]))
            continue
        embedded += target.import_issue(record, progress=progress)
        copied += 1
    got = {i["issue_id"]: i["paragraphs"] for i in target.issues()}
    report = target.verify()
    wrong = sorted(i for i, (paragraphs, _windows) in expected.items() if got.get(i) != paragraphs)
    if wrong or report["incomplete"]:
        raise NewsQAError(f"after the copy {len(wrong + report['incomplete'])} issue(s) differ in {target.location}: "
                          f"{', '.join((wrong + report['incomplete'])[:5])}; run newsqa migrate again")
    return {"issues": len(expected), "copied": copied, "skipped": skipped,
            "paragraphs": sum(p for p, _ in expected.values()), "vectors": sum(w for _, w in expected.values()),
            "embedded": embedded}
