"""Tests for qa.upload: who may write, safe upload names, and parsing an upload."""

from __future__ import annotations

import pytest

from qa.errors import InputError
from qa.upload import (MAX_UPLOAD_BYTES, check_token, is_loopback, local_writer_refusal, parse_upload,
                       safe_source_name, token_matches)
from conftest import SAMPLE


class Headers(dict):
    """Request headers as Starlette gives them: looked up by lower-case name."""

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses(host):
    assert is_loopback(host) and local_writer_refusal(host, Headers()) is None


@pytest.mark.parametrize("host", [None, "", "localhost", "10.0.0.5", "::ffff:10.0.0.5", "2001:db8::1"])
def test_other_clients_are_not_loopback(host):
    assert not is_loopback(host)
    assert "this machine only" in local_writer_refusal(host, Headers())


def test_a_proxied_loopback_request_is_refused_and_the_header_named():
    refusal = local_writer_refusal("127.0.0.1", Headers({"x-forwarded-for": "203.0.113.9"}))
    assert refusal and "x-forwarded-for" in refusal and "NEWSQA_TOKEN" in refusal


def test_tokens():
    assert token_matches("s3cret", "s3cret") and not token_matches("s3cre", "s3cret") and not token_matches(None, "s3cret")
    assert check_token("") is None and check_token("abc-123") == "abc-123"
    for bad in ("令牌", " abc", "abc\n"):
        with pytest.raises(InputError, match="printable ASCII"):
            check_token(bad)


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\zjrb-2023-08-01.txt", "zjrb-2023-08-01.txt"),
    ("浙江日报 2023.txt", "浙江日报_2023.txt"),
    ("", "upload.txt"),
    (None, "upload.txt"),
    ("...", "upload.txt"),
])
def test_safe_source_name_is_a_base_name_of_safe_characters(name, safe):
    assert safe_source_name(name) == safe


def test_parse_upload_reads_paper_and_date_from_the_safe_name():
    issue = parse_upload(SAMPLE.read_bytes(), "/tmp/../zjrb-2023-08-01.txt")
    assert (issue.source, issue.paper, issue.date) == ("zjrb-2023-08-01.txt", "zjrb", "2023-08-01")
    assert issue.paragraphs


def test_parse_upload_refuses_a_bad_date_and_binary_bytes():
    with pytest.raises(InputError, match="not a date"):
        parse_upload(SAMPLE.read_bytes(), "x.txt", date="2023-13-01")
    with pytest.raises(InputError):
        parse_upload(b"\x00\x01\x02" * 100, "x.txt")


def test_the_limit_is_20_mb():
    assert MAX_UPLOAD_BYTES == 20 * 1024 * 1024
