#!/usr/bin/env python3
"""PyTorch peer for the GPU benchmark: the shared GPT-2 reference model (gpt_ref.py, imported from
--ref-dir) trained with AdamW on CUDA, timed per step with torch.cuda.synchronize().
Prints one JSON line per size, flushed as each finishes. Sizes match bench/main.ts (a, b, c, c512).

  --tf32 on|off   torch.backends.cuda.matmul.allow_tf32 (PyTorch's default is off; ONNX Runtime's
                  CUDA provider defaults to TF32 on, and onnxruntime-node cannot change it)
  --lora R        LoRA rank R on every c_attn (alpha 16; base weights frozen), like ftlab's
                  --strategy lora on GPT-2
  --bf16          bf16 autocast of the forward (fp32 master weights and AdamW state)"""
import argparse, json, math, statistics, sys, time

SIZES = {
    "a": dict(layers=4, d=256, heads=4, vocab=4096, seq=128, batch=8, n_pos=128),
    "b": dict(layers=6, d=384, heads=6, vocab=8192, seq=256, batch=8, n_pos=256),
    "c": dict(layers=12, d=768, heads=12, vocab=50257, seq=256, batch=4, n_pos=1024),
    "c512": dict(layers=12, d=768, heads=12, vocab=50257, seq=512, batch=4, n_pos=1024),
}


def add_lora(model, rank, alpha, torch):
    """Freezes the model and puts a LoRA adapter on every c_attn (Conv1D: y = x W + b + s x A^T B^T)."""
    nn = torch.nn
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = []
    for name, mod in model.named_modules():
        if not name.endswith("c_attn"):
            continue
        n_in, n_out = mod.weight.shape
        A = nn.Parameter(torch.empty(rank, n_in, device=mod.weight.device))
        nn.init.kaiming_uniform_(A, a=math.sqrt(5))
        B = nn.Parameter(torch.zeros(n_out, rank, device=mod.weight.device))
        mod.lora_A, mod.lora_B, scale = A, B, alpha / rank
        base = mod.forward
        mod.forward = (lambda x, base=base, A=A, B=B, s=scale: base(x) + s * ((x @ A.t()) @ B.t()))
        adapters += [A, B]
    return adapters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-dir", required=True)
    ap.add_argument("--sizes", default="a,b,c")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tf32", choices=["on", "off"], default="off")
    ap.add_argument("--lora", type=int, default=0)
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, a.ref_dir)
    import torch
    import gpt_ref
    torch.backends.cuda.matmul.allow_tf32 = a.tf32 == "on"
    torch.backends.cudnn.allow_tf32 = a.tf32 == "on"
    dev = torch.device("cuda")
    for name in a.sizes.split(","):
        s = SIZES[name]
        torch.manual_seed(1234)
        model = gpt_ref.GPT(s["vocab"], s["n_pos"], s["d"], s["layers"], s["heads"], 0.0).to(dev)
        if a.lora:
            adapters = add_lora(model, a.lora, 16.0, torch)
            opt = torch.optim.AdamW(adapters, lr=2e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
        else:
            opt = gpt_ref.make_optimizer(model, 3e-4, 0.01, "matrices", (0.9, 0.95), 1e-8)
        x, y = gpt_ref.random_batch(s["vocab"], s["batch"], s["seq"], 1235)
        x, y = x.to(dev), y.to(dev)
        times = []
        torch.cuda.reset_peak_memory_stats()
        for k in range(3 + a.steps):
            torch.cuda.synchronize(); t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16):
                _, loss = model(x, y)
            loss.backward()
            opt.step()
            lv = loss.item()
            torch.cuda.synchronize(); t1 = time.perf_counter()
            if k >= 3: times.append(t1 - t0)
        med = statistics.median(times)
        print(json.dumps({"engine": "pytorch", "size": name, "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                          "tf32": a.tf32, "lora_rank": a.lora, "bf16": a.bf16,
                          "step_ms_median": round(1e3 * med, 2), "tokens_per_s": round(s["batch"] * s["seq"] / med),
                          "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20), "loss_last": lv}), flush=True)
        del model, opt
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
