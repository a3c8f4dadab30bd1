#!/usr/bin/env python3
"""PyTorch peer for the GPU benchmark: the shared GPT-2 reference model (gpt_ref.py, imported from
--ref-dir) trained with AdamW on CUDA, timed per step with torch.cuda.synchronize().
Prints one JSON line per size. Sizes match bench/main.ts (a, b, c)."""
import argparse, json, statistics, sys, time

SIZES = {
    "a": dict(layers=4, d=256, heads=4, vocab=4096, seq=128, batch=8, n_pos=128),
    "b": dict(layers=6, d=384, heads=6, vocab=8192, seq=256, batch=8, n_pos=256),
    "c": dict(layers=12, d=768, heads=12, vocab=50257, seq=256, batch=4, n_pos=1024),
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-dir", required=True)
    ap.add_argument("--sizes", default="a,b,c")
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    sys.path.insert(0, a.ref_dir)
    import torch
    import gpt_ref
    dev = torch.device("cuda")
    for name in a.sizes.split(","):
        s = SIZES[name]
        torch.manual_seed(1234)
        model = gpt_ref.GPT(s["vocab"], s["n_pos"], s["d"], s["layers"], s["heads"], 0.0).to(dev)
        opt = gpt_ref.make_optimizer(model, 3e-4, 0.01, "matrices", (0.9, 0.95), 1e-8)
        x, y = gpt_ref.random_batch(s["vocab"], s["batch"], s["seq"], 1235)
        x, y = x.to(dev), y.to(dev)
        times = []
        torch.cuda.reset_peak_memory_stats()
        for k in range(3 + a.steps):
            torch.cuda.synchronize(); t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            _, loss = model(x, y)
            loss.backward()
            opt.step()
            lv = loss.item()
            torch.cuda.synchronize(); t1 = time.perf_counter()
            if k >= 3: times.append(t1 - t0)
        med = statistics.median(times)
        print(json.dumps({"engine": "pytorch", "size": name, "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                          "step_ms_median": round(1e3 * med, 2), "tokens_per_s": round(s["batch"] * s["seq"] / med),
                          "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20), "loss_last": lv}), flush=True)

if __name__ == "__main__":
    main()
