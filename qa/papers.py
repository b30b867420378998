"""Paper names: `paper_name` turns a short paper id (zjrb) into the name readers know (浙江日报)."""

from __future__ import annotations

# Pinyin initials used in file names for common papers, with their names; initials that
# stand for several papers (hnrb: 河南日报, 湖南日报, 海南日报) are left out. A paper missing here
# is shown by the name given with --paper-name (or the upload's 报纸全名 field), else by its id.
KNOWN_PAPERS = {
    "zjrb": "浙江日报",
    "rmrb": "人民日报",
    "gmrb": "光明日报",
    "jjrb": "经济日报",
    "jfrb": "解放日报",
    "nfrb": "南方日报",
    "bjrb": "北京日报",
    "tjrb": "天津日报",
    "cqrb": "重庆日报",
    "scrb": "四川日报",
    "xhrb": "新华日报",
    "dzrb": "大众日报",
    "hzrb": "杭州日报",
    "nbrb": "宁波日报",
    "whb": "文汇报",
    "xmwb": "新民晚报",
    "zgqnb": "中国青年报",
    "kjrb": "科技日报",
}


def paper_name(paper: str | None, given: str | None = None) -> str | None:
    """The name to show for a paper.

    Args:
        paper: the paper's short id, as in the issue id (``zjrb``).
        given: a name set for the issue (``--paper-name``, the upload field), if any.

    Returns:
        ``given`` when set, else the known name of ``paper``, else ``paper`` itself (None when
        there is neither).
    """
    given = (given or "").strip()
    if given:
        return given
    if not paper:
        return None
    return KNOWN_PAPERS.get(paper.lower(), paper)
