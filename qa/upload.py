"""Upload checks shared by the API and the chat: who may write, how large, and parsing an uploaded issue."""

from __future__ import annotations

import hmac
import ipaddress
import re

from qa.errors import InputError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOKEN_COOKIE = "newsqa_token"  # the chat's token box copies the typed token here, for Gradio's uploads


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (and IPv4-mapped loopback); False for names and unknown clients."""
    if not host:
        return False
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    return hmac.compare_digest((given or "").encode("utf-8"), token.encode("utf-8"))


def check_token(token: str | None) -> str | None:
    """The write token as configured, or None when unset; refuse one that can never match.

    HTTP headers arrive as Latin-1, so a token with non-ASCII characters (or spaces and control
    characters around it) would never equal what a client sends.

    Raises:
        InputError: the token is not printable ASCII.
    """
    if not token:
        return None
    if not (token.isascii() and token.isprintable() and token == token.strip()):
        raise InputError("NEWSQA_TOKEN must be printable ASCII without surrounding spaces (HTTP headers "
                         "cannot carry other characters, so no client could ever send it): choose another token")
    return token


# Headers a reverse proxy adds to say who the client really is. Behind a proxy on the same host
# every client looks like 127.0.0.1, so without a token such a request is not "this machine".
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port",
                      "x-forwarded-server", "x-real-ip", "x-client-ip", "x-cluster-client-ip", "true-client-ip",
                      "cf-connecting-ip", "fastly-client-ip", "x-original-forwarded-for", "via")


def local_writer_refusal(host: str | None, headers) -> str | None:
    """Without a token: why a request may not write (None when it may: loopback, not proxied).

    Args:
        host: the client address the server saw.
        headers: the request headers (any mapping with case-insensitive ``get``).
    """
    forwarded = [h for h in FORWARDING_HEADERS if headers.get(h) is not None]
    if forwarded:
        return (f"writes through a proxy ({forwarded[0]} header) need NEWSQA_TOKEN: set it on the server "
                "and send 'Authorization: Bearer <NEWSQA_TOKEN>'")
    if not is_loopback(host):
        return "writes are accepted from this machine only; set NEWSQA_TOKEN to allow others"
    return None


def safe_source_name(filename: str | None) -> str:
    """The upload's base name, reduced to safe characters; only ever used as a label, never a path."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[^0-9A-Za-z\u3400-\u9fff_.\-]+", "_", name).strip("._")
    return name[:120] or "upload.txt"


def parse_upload(data: bytes, filename: str | None, paper: str | None = None, date: str | None = None):
    """Parse an uploaded issue from its bytes, labelled with the sanitised base name of the upload.

    The name's suffix (.html, .md) picks the format and its stem may give the paper and date,
    as for a file indexed from disk; nothing is ever written under that name.

    Raises:
        InputError: the bytes are not a usable issue (binary, empty, undecodable) or the date is bad.
    """
    from qa.index import check_date
    from qa.parse import parse_issue

    return parse_issue(data, paper=paper or None, date=check_date(date or None), source=safe_source_name(filename))
