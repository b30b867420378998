"""Tests for qa.papers: the name shown for a paper id."""

from __future__ import annotations

from qa.papers import KNOWN_PAPERS, paper_name


def test_a_given_name_wins_over_the_table():
    assert paper_name("zjrb", "浙江日报（海外版）") == "浙江日报（海外版）"


def test_common_ids_have_their_names():
    assert paper_name("zjrb") == "浙江日报"
    assert paper_name("RMRB") == "人民日报"  # file names are not always lower case
    assert {KNOWN_PAPERS[k] for k in ("gmrb", "jfrb", "nfrb", "bjrb")} == {"光明日报", "解放日报", "南方日报", "北京日报"}


def test_an_unknown_id_is_shown_as_it_is():
    assert paper_name("coop") == "coop"
    assert paper_name("coop", "  ") == "coop"  # a blank name is no name
    assert paper_name(None) is None
