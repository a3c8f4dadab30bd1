#!/usr/bin/python3
"""Independent float64 PyTorch reference for Hugging Face GPT2LMHeadModel and LlamaForCausalLM
(also Mistral and Qwen2, which are the Llama computation with other bias settings).

Written from the architecture, functionally, over a dict of parameters keyed by HF state_dict names;
it imports nothing from transformers (not installed here) and writes safetensors itself.

GPT-2 (GPT2LMHeadModel):
  x = wte[ids] + wpe[0..T-1]
  block: a = LayerNorm(x; ln_1, eps); qkv = a @ c_attn.W + c_attn.b   (Conv1D: W [in, out]; columns [q|k|v],
         heads = contiguous head_dim chunks); att = softmax(q k^T / sqrt(hd) + causal); x += (att v) @ c_proj.W + b
         m = LayerNorm(x; ln_2); x += act(m @ c_fc.W + b) @ mlp.c_proj.W + b     (gelu_new: tanh approximation)
  logits = LayerNorm(x; ln_f) @ wte^T  (tied) or @ lm_head.weight^T
Llama family (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM):
  x = embed_tokens[ids]
  block: a = RMSNorm(x; input_layernorm, eps) = w * x / sqrt(mean(x^2) + eps)
         q = a Wq^T (+bq)  [B, T, nH, hd];  k, v = a Wk^T (+bk), a Wv^T (+bv)  [B, T, nKV, hd]   (nn.Linear: W [out, in])
         rope (HF rotate-half layout): inv_freq[i] = theta^(-2i/hd) (then rope_scaling), ang = pos * inv_freq,
           cos = cat(cos(ang), cos(ang)), sin likewise; q' = q cos + rotate_half(q) sin, rotate_half(x) = cat(-x2, x1)
         grouped-query attention: query head h uses kv head h // (nH / nKV)  (repeat_interleave of kv heads)
         att = softmax(q' k'^T / sqrt(hd) + causal); x += (att v) Wo^T (+bo)
         m = RMSNorm(x; post_attention_layernorm); x += (silu(m Wg^T) * (m Wu^T)) Wd^T   (+biases if mlp_bias)
  logits = RMSNorm(x; model.norm) @ embed_tokens^T (tied) or @ lm_head.weight^T
Loss (HF ForCausalLMLoss): labels are aligned with input_ids and shifted inside: position t predicts labels[t+1];
  mean cross-entropy over the predicted positions whose label is not -100.

Usage:
  /usr/bin/python3 tools/reference/hf_ref.py [--fixtures test/fixtures/hf] [--golden test/golden]
      writes <fixtures>/<name>/{config.json, model.safetensors | shards + index} and <golden>/hf_<name>.json
      (+ <golden>/hf_<name>_adamw.json, torch.optim.AdamW steps, for the configs marked "adamw")
  /usr/bin/python3 tools/reference/hf_ref.py --self-check
      cross-checks this GPT-2 against test/golden/gpt2_tiny_f64.json (made by gpt_ref.py, another
      implementation), the rotate-half RoPE against Meta's interleaved complex RoPE with HF's q/k weight
      permutation, and gradients against finite differences (torch.autograd.gradcheck).
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import torch

IGNORE_INDEX = -100
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# ----------------------------------------------------------------------------- configs (config.json contents)
CONFIGS = {
    # GPT-2, tanh GELU, tied lm_head; stored float32 with the "transformer." prefix (save_pretrained layout).
    "gpt2_tiny": {
        "store": {"dtype": "F32", "shards": 1},
        "config": {
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 64, "n_positions": 16,
            "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None, "activation_function": "gelu_new",
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-5,
            "initializer_range": 0.02, "bos_token_id": 63, "eos_token_id": 63, "tie_word_embeddings": True,
            "torch_dtype": "float32",
        },
    },
    # Llama-2 style: grouped-query attention (4 heads, 2 kv heads), untied lm_head; two float32 shards + index.
    "llama_gqa_tiny": {
        "store": {"dtype": "F32", "shards": 2},
        "adamw": True,   # also writes hf_llama_gqa_tiny_adamw.json (torch.optim.AdamW steps)
        "config": {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 64, "hidden_size": 32,
            "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
            "rope_scaling": None, "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0,
            "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
        },
    },
    # Llama-3 style: tied embeddings, head_dim 16 given explicitly (q_proj [64, 32]), rope_theta 5e5 with
    # llama3 rope scaling (high, medium and low frequency bands all present at head_dim 16).
    "llama3_tied_tiny": {
        "store": {"dtype": "F32", "shards": 1},
        "config": {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 64, "hidden_size": 32,
            "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "head_dim": 16, "hidden_act": "silu", "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
            "rope_theta": 500000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64},
            "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0, "tie_word_embeddings": True,
            "bos_token_id": 0, "eos_token_id": [1, 2], "torch_dtype": "float32",
        },
    },
    # Llama with attention_bias (q, k, v and o) and mlp_bias.
    "llama_bias_tiny": {
        "store": {"dtype": "F32", "shards": 1},
        "config": {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 64, "hidden_size": 32,
            "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
            "attention_bias": True, "mlp_bias": True, "attention_dropout": 0.0, "tie_word_embeddings": False,
            "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
        },
    },
    # Qwen2: bias on q/k/v only, tied, GQA; stored bfloat16 (weights drawn then rounded to bf16).
    "qwen2_bias_tiny": {
        "store": {"dtype": "BF16", "shards": 1},
        "config": {
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 64, "hidden_size": 32,
            "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
            "use_sliding_window": False, "sliding_window": 128, "max_window_layers": 2, "attention_dropout": 0.0,
            "tie_word_embeddings": True, "bos_token_id": 60, "eos_token_id": 61, "torch_dtype": "bfloat16",
        },
    },
}

BATCH, SEQ = 2, 8


# ----------------------------------------------------------------------------- parameter lists
def llama_dims(c):
    head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    kv = c.get("num_key_value_heads") or c["num_attention_heads"]
    if c["model_type"] == "qwen2":
        qkv_bias, o_bias = True, False
    else:
        qkv_bias = o_bias = bool(c.get("attention_bias", False))
    return head_dim, kv, qkv_bias, o_bias, bool(c.get("mlp_bias", False))


def param_specs(c):
    """[(name, shape)] in named_parameters() order of the HF *ForCausalLM module."""
    out = []
    if c["model_type"] == "gpt2":
        V, P, C = c["vocab_size"], c["n_positions"], c["n_embd"]
        I = c.get("n_inner") or 4 * C
        out += [("transformer.wte.weight", (V, C)), ("transformer.wpe.weight", (P, C))]
        for l in range(c["n_layer"]):
            h = "transformer.h.%d" % l
            out += [(h + ".ln_1.weight", (C,)), (h + ".ln_1.bias", (C,)),
                    (h + ".attn.c_attn.weight", (C, 3 * C)), (h + ".attn.c_attn.bias", (3 * C,)),
                    (h + ".attn.c_proj.weight", (C, C)), (h + ".attn.c_proj.bias", (C,)),
                    (h + ".ln_2.weight", (C,)), (h + ".ln_2.bias", (C,)),
                    (h + ".mlp.c_fc.weight", (C, I)), (h + ".mlp.c_fc.bias", (I,)),
                    (h + ".mlp.c_proj.weight", (I, C)), (h + ".mlp.c_proj.bias", (C,))]
        out += [("transformer.ln_f.weight", (C,)), ("transformer.ln_f.bias", (C,))]
        hidden = C
    else:
        V, H, I = c["vocab_size"], c["hidden_size"], c["intermediate_size"]
        hd, kv, qkv_bias, o_bias, mlp_bias = llama_dims(c)
        nq, nkv = c["num_attention_heads"] * hd, kv * hd
        out.append(("model.embed_tokens.weight", (V, H)))
        for l in range(c["num_hidden_layers"]):
            a = "model.layers.%d.self_attn" % l
            for proj, rows in (("q_proj", nq), ("k_proj", nkv), ("v_proj", nkv)):
                out.append(("%s.%s.weight" % (a, proj), (rows, H)))
                if qkv_bias:
                    out.append(("%s.%s.bias" % (a, proj), (rows,)))
            out.append((a + ".o_proj.weight", (H, nq)))
            if o_bias:
                out.append((a + ".o_proj.bias", (H,)))
            m = "model.layers.%d.mlp" % l
            for proj, shape in (("gate_proj", (I, H)), ("up_proj", (I, H)), ("down_proj", (H, I))):
                out.append(("%s.%s.weight" % (m, proj), shape))
                if mlp_bias:
                    out.append(("%s.%s.bias" % (m, proj), (shape[0],)))
            out += [("model.layers.%d.input_layernorm.weight" % l, (H,)),
                    ("model.layers.%d.post_attention_layernorm.weight" % l, (H,))]
        out.append(("model.norm.weight", (H,)))
        hidden = H
    if not c.get("tie_word_embeddings", c["model_type"] == "gpt2"):
        out.append(("lm_head.weight", (c["vocab_size"], hidden)))
    return out


def init_params(c, seed, store_dtype):
    """float32 draws (rounded to bf16 when stored as BF16), returned as float64 leaves.
    Scales are chosen so every part of the network moves the output (not HF's init)."""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_specs(c):
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight", "layernorm.weight", "norm.weight")):
            t = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(("wte.weight", "embed_tokens.weight")):
            t = 0.3 * torch.randn(shape, generator=g)   # tied heads: logits of order 1, loss of order ln(V)
        elif name.endswith("wpe.weight"):
            t = 0.1 * torch.randn(shape, generator=g)
        else:
            fan_in = shape[0] if c["model_type"] == "gpt2" and name != "lm_head.weight" else shape[1]
            t = torch.randn(shape, generator=g) / math.sqrt(fan_in)
        t = t.to(torch.float32)
        if store_dtype == "BF16":
            t = t.to(torch.bfloat16).to(torch.float32)
        params[name] = t.to(torch.float64)
    return params


# ----------------------------------------------------------------------------- forward passes
def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def gpt2_act(name, x):
    if name in ("gelu_new", "gelu_fast", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    raise ValueError("activation %s not in the reference" % name)


def causal_attention(q, k, v):
    """q [B, nH, T, hd], k/v [B, nH, T, hd] -> [B, T, nH*hd]."""
    B, nH, T, hd = q.shape
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                         # [B, nH, T, T]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    att = att.masked_fill(~mask, float("-inf")).softmax(-1)
    return (att @ v).transpose(1, 2).reshape(B, T, nH * hd)


def gpt2_logits(p, c, ids):
    B, T = ids.shape
    C, nH = c["n_embd"], c["n_head"]
    hd = C // nH
    eps = c.get("layer_norm_epsilon", 1e-5)
    x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:T]   # [B, T, C]
    for l in range(c["n_layer"]):
        h = "transformer.h.%d." % l
        a = layer_norm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"], eps)
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]    # [B, T, 3C]
        q, k, v = (t.reshape(B, T, nH, hd).transpose(1, 2) for t in qkv.split(C, dim=-1))
        y = causal_attention(q, k, v)                                        # [B, T, C]
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        m = layer_norm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"], eps)
        m = gpt2_act(c.get("activation_function", "gelu_new"), m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + m @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    x = layer_norm(x, p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
    head = p.get("lm_head.weight", p["transformer.wte.weight"])
    return x @ head.T                                                         # [B, T, V]


def rope_inv_freq(c):
    hd = llama_dims(c)[0]
    theta = float(c.get("rope_theta", 10000.0))
    inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)  # [hd/2]
    s = c.get("rope_scaling")
    kind = (s or {}).get("rope_type", (s or {}).get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        factor, lo, hi = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        out = []
        for f in inv.tolist():
            wavelen = 2 * math.pi / f
            if wavelen < old / hi:
                out.append(f)
            elif wavelen > old / lo:
                out.append(f / factor)
            else:
                smooth = (old / wavelen - lo) / (hi - lo)
                out.append((1 - smooth) * f / factor + smooth * f)
        return torch.tensor(out, dtype=torch.float64)
    raise ValueError("rope scaling %s not in the reference" % kind)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(c, T):
    ang = torch.arange(T, dtype=torch.float64)[:, None] * rope_inv_freq(c)[None, :]   # [T, hd/2]
    emb = torch.cat((ang, ang), dim=-1)                                               # [T, hd]
    return emb.cos(), emb.sin()


def llama_logits(p, c, ids):
    B, T = ids.shape
    nH = c["num_attention_heads"]
    hd, nKV, _, _, _ = llama_dims(c)
    eps = c.get("rms_norm_eps", 1e-6)
    cos, sin = rope_cos_sin(c, T)

    def lin(x, name):
        y = x @ p[name + ".weight"].T
        return y + p[name + ".bias"] if name + ".bias" in p else y

    x = p["model.embed_tokens.weight"][ids]                                   # [B, T, H]
    for l in range(c["num_hidden_layers"]):
        L = "model.layers.%d." % l
        a = rms_norm(x, p[L + "input_layernorm.weight"], eps)
        q = lin(a, L + "self_attn.q_proj").reshape(B, T, nH, hd).transpose(1, 2)    # [B, nH, T, hd]
        k = lin(a, L + "self_attn.k_proj").reshape(B, T, nKV, hd).transpose(1, 2)   # [B, nKV, T, hd]
        v = lin(a, L + "self_attn.v_proj").reshape(B, T, nKV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nH // nKV, dim=1)                            # [B, nH, T, hd]
        v = v.repeat_interleave(nH // nKV, dim=1)
        x = x + lin(causal_attention(q, k, v), L + "self_attn.o_proj")
        m = rms_norm(x, p[L + "post_attention_layernorm.weight"], eps)
        gate = lin(m, L + "mlp.gate_proj")
        x = x + lin(gate * torch.sigmoid(gate) * lin(m, L + "mlp.up_proj"), L + "mlp.down_proj")
    x = rms_norm(x, p["model.norm.weight"], eps)
    head = p.get("lm_head.weight", p["model.embed_tokens.weight"])
    return x @ head.T                                                         # [B, T, V]


def logits_fn(c):
    return gpt2_logits if c["model_type"] == "gpt2" else llama_logits


def hf_causal_lm_loss(logits, labels):
    """Mean CE of logits[:, t] against labels[:, t+1] over labels != -100."""
    V = logits.shape[-1]
    shift_logits = logits[:, :-1, :].reshape(-1, V)
    shift_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE_INDEX, reduction="mean")


# ----------------------------------------------------------------------------- safetensors writer
def safetensors_bytes(tensors, dtype):
    """tensors: {name: float64 tensor holding values exact in `dtype`} -> file bytes (sorted by name)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach()
        if dtype == "F32":
            raw = t.to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        elif dtype == "BF16":
            raw = t.to(torch.bfloat16).contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode("utf-8") + b"".join(blobs)


def write_checkpoint(folder, cfg, params, store):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    names = list(params)
    shards = store["shards"]
    files = {}
    if shards == 1:
        files["model.safetensors"] = names
    else:
        per = math.ceil(len(names) / shards)
        for i in range(shards):
            files["model-%05d-of-%05d.safetensors" % (i + 1, shards)] = names[i * per:(i + 1) * per]
    digests = {}
    for fname, group in files.items():
        data = safetensors_bytes({n: params[n] for n in group}, store["dtype"])
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(data)
        digests[fname] = hashlib.sha256(data).hexdigest()
    if shards > 1:
        elem = {"F32": 4, "BF16": 2}[store["dtype"]]
        index = {"metadata": {"total_size": sum(params[n].numel() * elem for n in names)},
                 "weight_map": {n: fname for fname, group in files.items() for n in group}}
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
            f.write("\n")
    return digests


# ----------------------------------------------------------------------------- goldens
def make_batch(c, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(c["vocab_size"], (BATCH, SEQ), generator=g)
    labels = ids.clone()
    labels[0, :3] = IGNORE_INDEX    # a masked prompt (label 0 is never used: nothing predicts it)
    labels[1, 5] = IGNORE_INDEX     # one interior position
    return ids, labels


def nested(t):
    return t.detach().to(torch.float64).tolist()


def golden_case(name, spec, seed, fixtures_dir):
    c = spec["config"]
    params = init_params(c, seed, spec["store"]["dtype"])
    folder = os.path.join(fixtures_dir, name)
    digests = write_checkpoint(folder, c, params, spec["store"])
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    ids, labels = make_batch(c, seed + 1)
    logits = logits_fn(c)(leaves, c, ids)
    loss = hf_causal_lm_loss(logits, labels)
    loss.backward()
    golden = {
        "format": "hf_ref golden v1: float64 forward/backward of the HF model on the fixture weights",
        "name": name,
        "fixture": os.path.relpath(folder, ROOT),
        "fixture_sha256": digests,
        "stored_dtype": spec["store"]["dtype"],
        "config": c,
        "torch_version": torch.__version__,
        "mode": "eval (no dropout), float64, position_ids 0..T-1, no padding mask",
        "loss_convention": "labels aligned with input_ids; logits[:, t] predicts labels[:, t+1]; "
                           "mean cross-entropy over labels != -100",
        "param_names": list(params),
        "param_shapes": {n: list(t.shape) for n, t in params.items()},
        "input_ids": ids.tolist(),
        "labels": labels.tolist(),
        "n_loss_tokens": int((labels[:, 1:] != IGNORE_INDEX).sum()),
        "loss": loss.item(),
        "logits": nested(logits),
        "grads": {n: nested(t.grad) for n, t in leaves.items()},
    }
    if c["model_type"] != "gpt2":
        golden["rope_inv_freq"] = rope_inv_freq(c).tolist()
    return golden


ADAMW = {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "steps": 3}


def adamw_case(name, spec, seed):
    """torch.optim.AdamW on the golden batch from the fixture weights: weights after step 1 and the loss before
    each step. Weight decay on tensors of rank >= 2 only (for these models exactly HF Trainer's rule: no decay
    on biases and norm weights)."""
    c = spec["config"]
    leaves = {n: t.clone().requires_grad_(True) for n, t in init_params(c, seed, spec["store"]["dtype"]).items()}
    ids, labels = make_batch(c, seed + 1)
    groups = [{"params": [t for t in leaves.values() if t.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
              {"params": [t for t in leaves.values() if t.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"])
    losses, after1 = [], None
    for step in range(ADAMW["steps"]):
        opt.zero_grad()
        loss = hf_causal_lm_loss(logits_fn(c)(leaves, c, ids), labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
        if step == 0:
            after1 = {n: nested(t) for n, t in leaves.items()}
    return {"format": "hf_ref adamw golden v1: torch.optim.AdamW steps in float64 on the golden batch of hf_%s.json" % name,
            "name": name, "optimizer": dict(ADAMW, decay="rank >= 2"), "torch_version": torch.__version__,
            "losses_before_each_step": losses, "weights_after_step1": after1}


def write_goldens(fixtures_dir, golden_dir, seed):
    os.makedirs(golden_dir, exist_ok=True)
    for i, (name, spec) in enumerate(CONFIGS.items()):
        golden = golden_case(name, spec, seed + 10 * i, fixtures_dir)
        path = os.path.join(golden_dir, "hf_%s.json" % name)
        with open(path, "w") as f:
            json.dump(golden, f, separators=(",", ":"))
        print(json.dumps({"golden": os.path.relpath(path, ROOT), "bytes": os.path.getsize(path),
                          "fixture": golden["fixture"], "loss": golden["loss"]}))
        if spec.get("adamw"):
            path = os.path.join(golden_dir, "hf_%s_adamw.json" % name)
            with open(path, "w") as f:
                json.dump(adamw_case(name, spec, seed + 10 * i), f, separators=(",", ":"))
            print(json.dumps({"golden": os.path.relpath(path, ROOT), "bytes": os.path.getsize(path)}))


# ----------------------------------------------------------------------------- self checks
def check_against_gpt_ref(path):
    """This GPT-2 vs the golden of gpt_ref.py (an nn.Module implementation): logits, loss, every grad."""
    g = json.load(open(path))
    gc = g["config"]
    c = {"model_type": "gpt2", "vocab_size": gc["vocab"], "n_positions": gc["n_positions"], "n_embd": gc["d_model"],
         "n_layer": gc["layers"], "n_head": gc["heads"], "layer_norm_epsilon": gc["layer_norm_eps"],
         "activation_function": "gelu_new", "tie_word_embeddings": True}
    leaves = {"transformer." + n: torch.tensor(w, dtype=torch.float64, requires_grad=True) for n, w in g["weights"].items()}
    ids = torch.tensor(g["input_ids"])
    targets = torch.tensor(g["targets"])
    logits = gpt2_logits(leaves, c, ids)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)
    loss.backward()
    err = {"logits": (logits - torch.tensor(g["logits"], dtype=torch.float64)).abs().max().item(),
           "loss": abs(loss.item() - g["loss"]),
           "grads": max((leaves["transformer." + n].grad - torch.tensor(v, dtype=torch.float64)).abs().max().item()
                        for n, v in g["grads"].items())}
    return all(v < 1e-10 for v in err.values()), err


def check_rope_against_meta():
    """HF rotate-half RoPE with HF-permuted q/k weights == Meta's interleaved (complex) RoPE with the original
    weights. The permutation is the one of transformers' convert_llama_weights_to_hf.py."""
    c = dict(CONFIGS["llama3_tied_tiny"]["config"])
    hd, H, nH, T = 16, 32, 4, 8
    g = torch.Generator().manual_seed(7)
    w_meta = torch.randn(nH * hd, H, generator=g, dtype=torch.float64)
    x = torch.randn(T, H, generator=g, dtype=torch.float64)
    w_hf = w_meta.view(nH, hd // 2, 2, H).transpose(1, 2).reshape(nH * hd, H)
    # Meta: pairs (2i, 2i+1) are complex numbers rotated by pos * inv_freq[i].
    q = (x @ w_meta.T).view(T, nH, hd // 2, 2)
    angles = torch.arange(T, dtype=torch.float64)[:, None] * rope_inv_freq(c)[None, :]
    rot = torch.polar(torch.ones_like(angles), angles)[:, None, :]
    meta = torch.view_as_real(torch.view_as_complex(q.contiguous()) * rot)       # [T, nH, hd/2, 2]
    cos, sin = rope_cos_sin(c, T)
    qh = (x @ w_hf.T).view(T, nH, hd).transpose(0, 1)                             # [nH, T, hd]
    hf = (qh * cos + rotate_half(qh) * sin).transpose(0, 1)                      # [T, nH, hd]
    # Same numbers, laid out [re..., im...] per head in HF vs interleaved in Meta.
    meta_as_hf = torch.cat((meta[..., 0], meta[..., 1]), dim=-1)
    err = (hf - meta_as_hf).abs().max().item()
    return err < 1e-12, {"max_abs": err}


def check_gradients():
    """torch.autograd.gradcheck (float64 central differences) of the loss wrt every parameter, smaller configs."""
    results = {}
    for name in ("gpt2_tiny", "llama_gqa_tiny", "qwen2_bias_tiny"):
        c = dict(CONFIGS[name]["config"])
        if c["model_type"] == "gpt2":
            c.update(n_layer=1, n_embd=8, n_head=2, vocab_size=11, n_positions=5)
        else:
            c.update(num_hidden_layers=1, hidden_size=8, intermediate_size=6, vocab_size=11, num_attention_heads=2,
                     num_key_value_heads=1, head_dim=4)
        params = init_params(c, 3, "F32")
        names = list(params)
        ids = torch.randint(c["vocab_size"], (2, 5), generator=torch.Generator().manual_seed(4))
        labels = ids.clone()
        labels[0, :2] = IGNORE_INDEX

        def f(*ts):
            return hf_causal_lm_loss(logits_fn(c)(dict(zip(names, ts)), c, ids), labels)

        inputs = tuple(params[n].clone().requires_grad_(True) for n in names)
        results[name] = bool(torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5))
    return all(results.values()), results


def self_check(gpt_ref_golden):
    ok = True
    checks = [("rope vs Meta complex RoPE", check_rope_against_meta), ("gradcheck", check_gradients)]
    if os.path.exists(gpt_ref_golden):
        checks.insert(0, ("gpt2 vs gpt_ref golden", lambda: check_against_gpt_ref(gpt_ref_golden)))
    else:
        print("skipped: gpt2 vs gpt_ref golden (%s not found)" % gpt_ref_golden)
    for label, fn in checks:
        passed, detail = fn()
        print("%s %s: %s" % ("ok  " if passed else "FAIL", label, json.dumps(detail)))
        ok = ok and passed
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "test", "fixtures", "hf"),
                    help="folder for the checkpoint folders (default test/fixtures/hf)")
    ap.add_argument("--golden", default=os.path.join(ROOT, "test", "golden"), help="folder for hf_<name>.json")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--self-check", action="store_true", help="run the cross-checks instead of writing files")
    ap.add_argument("--gpt-ref-golden", default=os.path.join(ROOT, "test", "golden", "gpt2_tiny_f64.json"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    if a.self_check:
        sys.exit(0 if self_check(a.gpt_ref_golden) else 1)
    write_goldens(os.path.abspath(a.fixtures), os.path.abspath(a.golden), a.seed)


if __name__ == "__main__":
    main()
