#!/usr/bin/python3
"""L2-SP golden for the engine's in-graph optimizer update (float64), on the shared reference model.

L2-SP (Li, Grandvalet, Davoine 2018) in its decoupled form, as the engine defines it: every
parameter p with pretrained value w0 gets, in the same step as the optimizer's update and evaluated
at the pre-step p,
    p_new = optimizer_step(p) - lr * lam * (p - w0)
where optimizer_step is torch.optim.AdamW's (its decoupled decay included) or torch.optim.SGD's.
It is written here the plain way (save p - w0, let torch step, subtract), independent of the
engine's folded form p*(1 - lr*(wd + lam)) + w0*lr*lam - adam_step.

Runs 3 steps on one batch of ../shared/reference/gpt_ref.py's GPT (HF GPT-2 layout, tiny config):
  adamw_l2sp : AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01 on 2-D tensors) + L2-SP lam 50
               on every parameter
  sgd_l2sp   : SGD(lr 0.05, momentum 0.9, weight_decay 0.01 on every tensor), clip_grad_norm_(0.5)
               + L2-SP lam 2 on every parameter
lr * lam is 0.05 and 0.1: the pull moves the weights by far more than the 1e-6 comparison tolerance.

Run: /usr/bin/python3 tools/reference/l2sp_golden.py --ref-dir ../shared/reference --out test/golden/l2sp_tiny_f64.json
"""
import argparse, json, sys

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=4321)
    a = ap.parse_args()
    sys.path.insert(0, a.ref_dir)
    import torch
    import gpt_ref
    torch.set_num_threads(2)
    cfg = dict(vocab=32, n_positions=8, d_model=16, layers=2, heads=2, seq=8, batch=2)
    torch.manual_seed(a.seed)
    m32 = gpt_ref.GPT(cfg["vocab"], cfg["n_positions"], cfg["d_model"], cfg["layers"], cfg["heads"], 0.0)
    init = {k: v.double() for k, v in m32.state_dict().items()}
    x, y = gpt_ref.random_batch(cfg["vocab"], cfg["batch"], cfg["seq"], a.seed + 1)
    y[0, :3] = gpt_ref.IGNORE_INDEX

    def run(make_opt, lr, lam, clip):
        model = gpt_ref.GPT(cfg["vocab"], cfg["n_positions"], cfg["d_model"], cfg["layers"], cfg["heads"], 0.0).double()
        model.load_state_dict(init)
        w0 = {n: p.detach().clone() for n, p in model.named_parameters()}
        opt = make_opt(model)
        losses, norms = [], []
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            _, loss = model(x, y)
            loss.backward()
            norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))))
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            pull = {n: p.detach() - w0[n] for n, p in model.named_parameters()}  # at the pre-step p
            opt.step()
            with torch.no_grad():
                for n, p in model.named_parameters():
                    p.sub_(lr * lam * pull[n])
            losses.append(loss.item())
        return {"lr": lr, "l2sp_weight": lam, "losses": losses, "grad_norms": norms,
                "weights_after_3": {n: p.detach().flatten().tolist() for n, p in model.named_parameters()}}

    adamw = run(lambda m: gpt_ref.make_optimizer(m, 1e-3, 0.01, "matrices", (0.9, 0.999), 1e-8), 1e-3, 50.0, 0)
    sgd = run(lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01), 0.05, 2.0, 0.5)
    out = {"format": "l2sp golden v1 (float64); weights flattened row-major by GPT2Model state_dict name",
           "config": cfg, "seed": a.seed, "torch_version": torch.__version__,
           "weights": {n: v.flatten().tolist() for n, v in init.items() if not n.endswith("causal")},
           "input_ids": x.tolist(), "targets": y.tolist(), "adamw_l2sp": adamw, "sgd_l2sp": sgd}
    with open(a.out, "w") as f:
        json.dump(out, f)

if __name__ == "__main__":
    main()
