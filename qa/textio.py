"""Read issue files into text: encoding detection, format sniffing, HTML/Markdown to text blocks."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # a day's issue is well under 1 MB; anything this big is not one
_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_MD_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_TEXT_CONTROLS = set("\t\n\r\f\v")
_CJK = "\u3400-\u9fff\uf900-\ufaff"


@dataclass
class Segment:
    """One block of text extracted from HTML or Markdown, with what the markup said it was.

    ``kind`` is ``"p"``, ``"h1"``…``"h6"`` or ``"caption"``; ``gap`` is 2 when the markup shows a
    hard boundary before it (``<hr>``, a new ``<article>``), else 1.
    """

    text: str
    kind: str = "p"
    gap: int = 1


# ------------------------------------------------------------------------ decoding
def decode_bytes(data: bytes, name: str = "input") -> str:
    """Decode an issue file's bytes: UTF-8 (BOM or not), UTF-16/32 with a BOM, else GB18030.

    Args:
        data: the raw bytes.
        name: what to call the input in error messages.

    Returns:
        The decoded text (BOM removed, newlines not yet normalised).

    Raises:
        InputError: empty, binary or undecodable data.
    """
    if not data:
        raise InputError(f"{name}: the file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise InputError(f"{name}: has a {encoding} byte-order mark but is not valid {encoding}") from None
    if b"\x00" in data:  # no text encoding we accept without a BOM contains NUL bytes
        raise InputError(f"{name}: looks like binary data, not text")
    for encoding in ("utf-8", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: cannot decode the text as UTF-8 or GB18030/GBK")


def clean_text(text: str, name: str = "input") -> str:
    """Normalise newlines to ``\\n`` and check the text is usable.

    Args:
        text: decoded text.
        name: what to call the input in error messages.

    Returns:
        The text with ``\\r\\n``/``\\r`` turned into ``\\n`` and a leading BOM removed.

    Raises:
        InputError: empty, whitespace only, lone surrogates, or mostly control characters.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    if not text:
        raise InputError(f"{name}: the file is empty")
    if not text.strip():
        raise InputError(f"{name}: the file contains only white space")
    bad = 0
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":  # cannot be encoded, so offsets and hashes would be meaningless
            raise InputError(f"{name}: the text contains unpaired surrogate characters")
        if (category == "Cc" and ch not in _TEXT_CONTROLS) or category in ("Co", "Cn") or ch == "\ufffd":
            bad += 1
    # Real text has next to no control/private-use characters; decoded binary has many.
    if bad > max(2, len(text) // 20):
        raise InputError(f"{name}: looks like binary data, not text")
    return text


def detect_format(text: str, suffix: str = "") -> str:
    """Decide whether an issue is HTML, Markdown or plain text.

    Args:
        text: the decoded text.
        suffix: the file name's suffix, if any (``.html``, ``.md`` win over sniffing).

    Returns:
        ``"html"``, ``"markdown"`` or ``"text"``.
    """
    suffix = suffix.lower()
    if suffix in _HTML_SUFFIXES:
        return "html"
    if suffix in _MD_SUFFIXES:
        return "markdown"
    head = text.lstrip()[:2000].lower()
    if head.startswith(("<!doctype html", "<html")):
        return "html"
    tags = len(re.findall(r"<(?:p|div|h[1-6]|br|article|section|body|figure|li)\b[^<>]*>", text[:20000], re.IGNORECASE))
    if tags >= 3 or (tags and head.startswith("<")):
        return "html"
    if re.search(r"^ {0,3}#{1,6}[ \t]+\S", text, re.MULTILINE) or re.search(r"!\[[^\]\n]*\]\([^)\n]*\)", text):
        return "markdown"
    return "text"


def read_issue_text(path_or_bytes: str | Path | bytes, name: str | None = None) -> tuple[str, str]:
    """Read and decode one issue.

    Args:
        path_or_bytes: a file path, or the file's bytes.
        name: the name to use in messages and for the suffix (defaults to the path's name).

    Returns:
        ``(text, format)``: the decoded text with ``\\n`` newlines, and ``"text"``,
        ``"markdown"`` or ``"html"``.

    Raises:
        InputError: missing file, a directory, unreadable, empty, binary or undecodable.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
        name = name or "input"
    else:
        path = Path(path_or_bytes)
        name = name or path.name or str(path)
        data = _read_file(path)
    text = clean_text(decode_bytes(data, name), name)
    return text, detect_format(text, Path(name).suffix)


def _read_file(path: Path) -> bytes:
    """Read a file's bytes, turning every way it can fail into an InputError."""
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not an issue file")
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if not path.is_file():  # a device or pipe could block or never end
            raise InputError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InputError(f"{path}: too large for one issue (over {MAX_BYTES} bytes)")
        return data
    except InputError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"{path}: cannot read the file ({reason})") from None


# ------------------------------------------------------------------------ markup → text
def _squash(text: str) -> str:
    """Collapse white space the way a browser shows it, dropping line wraps between CJK characters."""

    def repl(m: re.Match) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        # A source line wrap between two Chinese characters is not a space in the rendered text.
        if "\n" in m.group() and (re.match(f"[{_CJK}\u3000-\u303f\uff00-\uffef]", before + " ")
                                  or re.match(f"[{_CJK}\u3000-\u303f\uff00-\uffef]", after + " ")):
            return ""
        return " "

    return re.sub(r"\s+", repl, text).strip()


class _HTMLBlocks(HTMLParser):
    """Collect the text of an HTML page as blocks, keeping headings and figure captions apart."""

    BREAKS = frozenset({"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote",
              "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "td", "th", "pre", "figure", "figcaption",
              "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr", "address", "center", "caption", "body"})
    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    KINDS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "figcaption"})
    HARD = frozenset({"hr", "article", "section"})  # a new article or a rule: the strongest boundary HTML has

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[Segment] = []
        self.title = ""
        self._buf: list[str] = []
        self._kinds: list[str] = []
        self._skip = 0
        self._in_title = False
        self._gap = 1

    def _flush(self) -> None:
        text = _squash("".join(self._buf))
        self._buf = []
        if text:
            kind = self._kinds[-1] if self._kinds else "p"
            self.segments.append(Segment(text, "caption" if kind == "figcaption" else kind, self._gap))
            self._gap = 1

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BREAKS:
            self._flush()
            if tag in self.HARD and self.segments:
                self._gap = 2
            if tag in self.KINDS:
                self._kinds.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in self.BREAKS:  # <br/>, <hr/>: no content, no end tag
            self._flush()
            if tag in self.HARD and self.segments:
                self._gap = 2

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BREAKS:
            self._flush()
            if tag in self.KINDS and tag in self._kinds:
                # pop up to the matching opener; tolerates unclosed inner headings
                while self._kinds and self._kinds.pop() != tag:
                    pass

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        else:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_segments(html: str) -> tuple[list[Segment], str]:
    """Extract the visible text of an HTML issue as blocks.

    Args:
        html: the page source.

    Returns:
        ``(segments, title)``: block-level text in document order, and the ``<title>`` text.
    """
    parser = _HTMLBlocks()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 -- html.parser is lenient, but a few malformed declarations still assert
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", "\n\n", html)
        return [Segment(t) for t in (_squash(p) for p in stripped.split("\n\n")) if t], ""
    return parser.segments, _squash(parser.title)


_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_MD_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+")
_MD_ESCAPABLE = r"""!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"""  # CommonMark: any ASCII punctuation
_MD_INLINE = (
    (re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # links keep their text
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"\*(?=\S)(.+?)(?<=\S)\*"), r"\1"),
    # "_" inside an ASCII word (snake_case) is a letter, not emphasis; next to Chinese it is.
    (re.compile(r"(?<![A-Za-z0-9])_(?=\S)(.+?)(?<=\S)_(?![A-Za-z0-9])"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
)
# Inline HTML: a wiki <ref> footnote goes with its content (a source name glued into a
# sentence is noise); <br> is a line break; any other tag goes and its text stays.
_MD_REF = re.compile(r"<ref\b[^<>\n]*/>|<ref\b[^<>\n]*>.*?</ref\s*>", re.IGNORECASE)
_MD_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_MD_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>|<!--.*?-->")
_MD_LITERAL = re.compile(r"`+([^`\n]*?)`+|<nowiki>(.*?)</nowiki>|\\([" + _MD_ESCAPABLE + r"])", re.IGNORECASE)
_PROTECT = 0xF0000  # supplementary private use area: never in real text, so safe as placeholders


def _md_inline(text: str) -> str:
    """Turn one line of Markdown into plain text, keeping every word and literal character.

    Code spans, ``<nowiki>`` and backslash escapes are set aside first, so that their
    characters are kept as written (``a\\_b`` → ``a_b``); then footnotes, tags, emphasis and
    link markup go, entities are decoded (``&lt;`` → ``<``) and the literals come back.

    Args:
        text: one line (or heading, or image alt text) of Markdown.

    Returns:
        The line's text.
    """
    literals: list[str] = []

    def protect(m: re.Match) -> str:
        literal = next(g for g in m.groups() if g is not None)
        if len(literals) >= 0xFFFD:  # out of placeholders: keep the rest as plain text
            return literal
        literals.append(literal)
        return chr(_PROTECT + len(literals) - 1)

    if not re.search("[\U000F0000-\U000FFFFD]", text):  # a line already holding such characters keeps them
        text = _MD_LITERAL.sub(protect, text)
    text = _MD_REF.sub("", text)
    text = _MD_BR.sub("\n", text)  # squashed later: nothing between Chinese characters, else a space
    text = _MD_TAG.sub("", text)
    for pattern, repl in _MD_INLINE:
        text = pattern.sub(repl, text)
    text = html.unescape(text)
    if literals:
        text = re.sub(f"[{chr(_PROTECT)}-{chr(_PROTECT + len(literals) - 1)}]",
                      lambda m: literals[ord(m.group()) - _PROTECT], text)
    return text


def _cjk_join(lines: list[str]) -> str:
    """Join soft-wrapped lines: no space where a Chinese character meets the wrap."""
    out = ""
    for line in lines:
        if out and not (re.search(f"[{_CJK}\u3000-\u303f\uff00-\uffef]$", out)
                        or re.match(f"[{_CJK}\u3000-\u303f\uff00-\uffef]", line)):
            out += " "
        out += line
    return out


def markdown_segments(md: str) -> list[Segment]:
    """Extract a Markdown issue as blocks: headings, paragraphs and image captions.

    Args:
        md: the Markdown source.

    Returns:
        Blocks in document order; ``#`` headings become ``h1``…``h6``, images their alt text as
        ``caption``, emphasis and link markup is dropped.
    """
    segments: list[Segment] = []
    buf: list[str] = []
    captions: list[str] = []
    gap = 1
    fenced = False

    def flush() -> None:
        nonlocal gap
        text = _squash(_cjk_join(buf))
        buf.clear()
        if text:
            segments.append(Segment(text, "p", gap))
            gap = 1
        for alt in captions:
            segments.append(Segment(alt, "caption", gap))
            gap = 1
        captions.clear()

    for raw in md.split("\n"):
        if raw.lstrip().startswith(("```", "~~~")):
            flush()
            fenced = not fenced
            continue
        if fenced:
            if raw.strip():
                segments.append(Segment(_squash(raw), "p", gap))
                gap = 1
            continue
        line = re.sub(r"^ {0,3}(?:>[ \t]?)+", "", raw)  # block quotes read as plain paragraphs
        if not line.strip():
            flush()
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            text = _squash(_md_inline(heading.group(2)))
            if text:
                segments.append(Segment(text, f"h{len(heading.group(1))}", gap))
                gap = 1
            continue
        if re.fullmatch(r" {0,3}(=+|-+)[ \t]*", line) and len(buf) == 1:  # setext heading underline
            text = _squash(_md_inline(buf.pop()))
            if text:
                segments.append(Segment(text, "h1" if "=" in line else "h2", gap))
                gap = 1
            continue
        if _MD_RULE.match(line):
            flush()
            gap = 2 if segments else 1
            continue
        if _MD_ITEM.match(line):
            flush()
            line = _MD_ITEM.sub("", line)
        captions.extend(c for c in (_squash(_md_inline(m)) for m in _MD_IMAGE.findall(line)) if c)
        line = _MD_IMAGE.sub("", line)
        if line.strip():
            buf.append(_md_inline(line).strip())
        elif captions:
            flush()  # a line that is only an image stands on its own
    flush()
    return segments
