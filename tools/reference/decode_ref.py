#!/usr/bin/python3
"""PyTorch KV-cache decode speed for a GPT-2-architecture model: the peer of bench/decode.ts.

The model is ../shared/reference/gpt_ref.py's GPT (HF GPT2LMHeadModel layout, random init); this script adds
the incremental forward that generation uses: a preallocated (static) cache [B, H, max_len, hd] per layer,
each step writes the new token's k/v at its position and attends over positions 0..pos (the same work as
transformers' StaticCache, without its Python overhead). Greedy decoding, batch 1, float32, inference mode.

Prints one JSON line: prefill ms, decode ms/token (mean over the timed steps), tokens/s.

  /usr/bin/python3 tools/reference/decode_ref.py --layers 12 --d 768 --heads 12 --vocab 50257 \\
      --prompt 32 --new 128 --threads 2 [--ref ../shared/reference/gpt_ref.py] [--check]

--check compares the cached decode's logits with the full forward's at every position (max abs diff).
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "reference", "gpt_ref.py"))


def load_gpt_ref(path):
    spec = importlib.util.spec_from_file_location("gpt_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class StaticCache:
    def __init__(self, layers, B, H, max_len, hd):
        self.k = [torch.zeros(B, H, max_len, hd) for _ in range(layers)]
        self.v = [torch.zeros(B, H, max_len, hd) for _ in range(layers)]


def forward_cached(model, idx, pos, cache):
    """Logits of the last of idx's T tokens, which sit at positions pos..pos+T-1; writes their k/v."""
    B, T = idx.shape
    x = model.wte(idx) + model.wpe(torch.arange(pos, pos + T))
    for l, block in enumerate(model.h):
        attn = block.attn
        C = x.shape[-1]
        q, k, v = attn.c_attn(block.ln_1(x)).split(C, dim=2)
        heads = lambda t: t.view(B, T, attn.n_heads, attn.head_dim).transpose(1, 2)   # [B, H, T, hd]
        q, k, v = heads(q), heads(k), heads(v)
        cache.k[l][:, :, pos:pos + T] = k
        cache.v[l][:, :, pos:pos + T] = v
        keys, values = cache.k[l][:, :, :pos + T], cache.v[l][:, :, :pos + T]
        att = (q @ keys.transpose(-2, -1)) * (1.0 / math.sqrt(attn.head_dim))   # [B, H, T, pos+T]
        if T > 1:
            mask = torch.ones(T, pos + T, dtype=torch.bool).tril(diagonal=pos)
            att = att.masked_fill(~mask, float("-inf"))
        y = (F.softmax(att, dim=-1) @ values).transpose(1, 2).contiguous().view(B, T, C)
        x = x + attn.c_proj(y)
        x = x + block.mlp(block.ln_2(x))
    x = model.ln_f(x[:, -1:])
    return x @ model.wte.weight.T                                   # [B, 1, V]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--n-positions", type=int, default=1024)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ref", default=DEFAULT_REF, help="path of gpt_ref.py (its GPT class)")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    ref = load_gpt_ref(a.ref)
    model = ref.GPT(a.vocab, a.n_positions, a.d, a.layers, a.heads, 0.0).eval()
    g = torch.Generator().manual_seed(a.seed + 1)
    prompt = torch.randint(a.vocab, (1, a.prompt), generator=g)
    max_len = a.prompt + a.new
    hd = a.d // a.heads

    with torch.inference_mode():
        if a.check:
            cache = StaticCache(a.layers, 1, a.heads, max_len, hd)
            seq = prompt
            worst = (forward_cached(model, prompt, 0, cache)[0, -1] - model(prompt)[0][0, -1]).abs().max().item()
            for i in range(8):
                nxt = torch.randint(a.vocab, (1, 1), generator=g)
                step = forward_cached(model, nxt, seq.shape[1], cache)[0, -1]
                seq = torch.cat([seq, nxt], dim=1)
                worst = max(worst, (step - model(seq)[0][0, -1]).abs().max().item())
            print(json.dumps({"check_max_abs_diff": worst}))
            sys.exit(0 if worst < 1e-4 else 1)

        def run():
            cache = StaticCache(a.layers, 1, a.heads, max_len, hd)
            t0 = time.perf_counter()
            logits = forward_cached(model, prompt, 0, cache)
            t1 = time.perf_counter()
            token = logits[0, -1].argmax().view(1, 1)
            times = []
            for i in range(a.new - 1):
                s = time.perf_counter()
                logits = forward_cached(model, token, a.prompt + i, cache)
                token = logits[0, -1].argmax().view(1, 1)
                times.append(time.perf_counter() - s)
            return (t1 - t0) * 1000, times

        run()  # warm-up (allocator, kernels)
        prefill_ms, times = run()
    ms = 1000 * sum(times) / len(times)
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "blas": ref._blas_library(), "threads": a.threads,
        "layers": a.layers, "d": a.d, "heads": a.heads, "vocab": a.vocab, "prompt": a.prompt, "new": a.new,
        "params": sum(p.numel() for p in model.parameters()),
        "prefill_ms": round(prefill_ms, 3), "ms_per_token": round(ms, 3), "tokens_per_s": round(1000 / ms, 2),
    }))


if __name__ == "__main__":
    main()
