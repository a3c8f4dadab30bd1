#!/usr/bin/python3
"""Optimizer goldens for the engine's in-graph updates (float64), on the shared reference model.

Uses ../shared/reference/gpt_ref.py's GPT (HF GPT-2 layout) at the same tiny config and seed as its
--dump-golden, then runs 3 steps on one batch with:
  adamw_3steps : torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01 on 2-D tensors)
  sgd_clip     : torch.optim.SGD(lr 0.05, momentum 0.9, weight_decay 0.01 on every tensor) with
                 torch.nn.utils.clip_grad_norm_(max_norm 0.5) before each step
Writes the weights after step 3 and the per-step losses and (pre-clip) gradient norms.

Run: /usr/bin/python3 tools/reference/optim_golden.py --ref-dir ../shared/reference --out test/golden/optim_tiny_f64.json
"""
import argparse, json, sys

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    sys.path.insert(0, a.ref_dir)
    import torch
    import gpt_ref
    torch.set_num_threads(2)
    cfg = dict(vocab=64, n_positions=8, d_model=32, layers=2, heads=2, seq=8, batch=2)
    torch.manual_seed(a.seed)
    m32 = gpt_ref.GPT(cfg["vocab"], cfg["n_positions"], cfg["d_model"], cfg["layers"], cfg["heads"], 0.0)
    init = {k: v.double() for k, v in m32.state_dict().items()}
    x, y = gpt_ref.random_batch(cfg["vocab"], cfg["batch"], cfg["seq"], a.seed + 1)
    y[0, :3] = gpt_ref.IGNORE_INDEX

    def run(make_opt, clip):
        model = gpt_ref.GPT(cfg["vocab"], cfg["n_positions"], cfg["d_model"], cfg["layers"], cfg["heads"], 0.0).double()
        model.load_state_dict(init)
        opt = make_opt(model)
        losses, norms = [], []
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            _, loss = model(x, y)
            loss.backward()
            norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))))
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
        return {"losses": losses, "grad_norms": norms,
                "weights_after_3": {n: p.detach().flatten().tolist() for n, p in model.named_parameters()}}

    adamw = run(lambda m: gpt_ref.make_optimizer(m, 1e-3, 0.01, "matrices", (0.9, 0.999), 1e-8), 0)
    sgd = run(lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01), 0.5)
    out = {"format": "optim golden v1 (float64); weights flattened row-major by GPT2Model state_dict name",
           "config": cfg, "seed": a.seed, "torch_version": torch.__version__,
           "weights": {n: v.flatten().tolist() for n, v in init.items() if not n.endswith("causal")},
           "input_ids": x.tolist(), "targets": y.tolist(), "adamw_3steps": adamw, "sgd_clip": sgd}
    with open(a.out, "w") as f:
        json.dump(out, f)

if __name__ == "__main__":
    main()
