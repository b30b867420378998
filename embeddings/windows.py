"""Splitting paragraphs longer than the model's input into overlapping windows at sentence ends."""

from __future__ import annotations

SENTENCE_ENDS = "。！？；!?;\n"
CLAUSE_ENDS = "，,、：:"
CLOSERS = "”’」』）)》〉】\"'"
PREFIX_MARGIN = 16  # tokens left for "passage: ", <s>, </s> and tokenizer surprises


def window_size(max_tokens: int, margin: int = PREFIX_MARGIN) -> tuple[int, int]:
    """Window length and overlap in characters for a model's token limit.

    Chinese text costs at most about one token per character with these tokenizers (the
    XLM-R tokenizer of e5 averages ~0.7), so ``max_tokens - margin`` characters always fit.

    Args:
        max_tokens: the model's input limit in tokens.
        margin: tokens kept free for prefixes and special tokens.

    Returns:
        (max_chars, overlap) with overlap = max_chars // 5.
    """
    max_chars = max(32, int(max_tokens) - margin)
    return max_chars, max_chars // 5


def _boundaries(text: str, marks: str) -> list[int]:
    """Offsets just after each mark (and the closing quotes/brackets that follow it)."""
    out = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch in marks:
            j = i + 1
            while j < n and text[j] in CLOSERS:
                j += 1
            if not out or out[-1] != j:
                out.append(j)
    return out


def split_windows(text: str, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Cover a text with windows of at most ``max_chars`` characters.

    Each window ends, by preference, just after a sentence end (。！？； and their ASCII forms,
    or a newline), else after a clause mark (，、：), else at the hard limit, and never in the
    first half of the window. The next window starts about ``overlap`` characters before the
    previous end, moved forward to a sentence (else clause) start when one lies in that overlap.

    Args:
        text: the paragraph.
        max_chars: longest window.
        overlap: characters shared by consecutive windows (0 <= overlap < max_chars).

    Returns:
        (start, end) character offsets into ``text``, in order: the first starts at 0, the last
        ends at ``len(text)``, each starts before the previous one ends (or at its end when
        ``overlap`` is 0). A text of at most ``max_chars`` characters gives ``[(0, len(text))]``.

    Raises:
        ValueError: max_chars < 1 or overlap outside [0, max_chars).
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if not 0 <= overlap < max_chars:
        raise ValueError(f"overlap must be in [0, max_chars), got {overlap}")
    n = len(text)
    if n <= max_chars:
        return [(0, n)]
    sentences = _boundaries(text, SENTENCE_ENDS)
    clauses = _boundaries(text, CLAUSE_ENDS)
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        limit = start + max_chars
        if limit >= n:
            windows.append((start, n))
            return windows
        floor = start + max(max_chars // 2, overlap + 1)
        end = _last_in(sentences, floor, limit) or _last_in(clauses, floor, limit) or limit
        windows.append((start, end))
        if overlap == 0:
            start = end
        else:
            lo = end - overlap
            start = _first_in(sentences, lo, end - 1) or _first_in(clauses, lo, end - 1) or lo
    # not reached


def _last_in(points: list[int], lo: int, hi: int) -> int | None:
    """The largest point p with lo <= p <= hi, or None."""
    best = None
    for p in points:
        if p > hi:
            break
        if p >= lo:
            best = p
    return best


def _first_in(points: list[int], lo: int, hi: int) -> int | None:
    """The smallest point p with lo <= p <= hi, or None."""
    for p in points:
        if p > hi:
            return None
        if p >= lo:
            return p
    return None
