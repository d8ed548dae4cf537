"""Time-to-solve CartPole-v1 (mean greedy return >= 475 over 100 evaluation episodes) for DQN and A2C, gradlab
against the same recipe written in torch; each library in its own process, alternating.

    python benchmarks/rl.py [--algos dqn a2c] [--rounds 1] [--max-steps 200000] [--eval-every 5000]
    python benchmarks/rl.py --one gradlab dqn --seed 0      # one process, one JSON line (what the driver starts)

Every ``--eval-every`` environment steps training pauses for 10 greedy episodes; when their mean reaches 475 the
full 100-episode evaluation decides. Reported: the environment steps and episodes at the solving evaluation, the
training wall time to get there (evaluations excluded) and its ratio gradlab/torch per round (median of the
per-round ratios), and the training time per environment step: the two libraries draw different random numbers,
so the steps to solve differ by seed luck and the per-step time is the fairer speed comparison. Both libraries
run on one thread (one BLAS thread; ``torch.set_num_threads(1)``): the networks are tiny. The torch recipes mirror
:class:`gradlab.rl.DQN` and :class:`gradlab.rl.A2C` with their defaults (same sizes, optimizers, schedules, losses).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ENV = "CartPole-v1"
SOLVED = 475.0


# ---------------------------------------------------------------- torch twins of the gradlab recipes
def _torch_agents(seed: int):  # noqa: C901  (two small classes, kept together)
    import torch
    from torch import nn

    from gradlab.rl.envs import SEED_LIMIT, make_env, make_vector_env
    from gradlab.rl.returns import gae
    from gradlab.rl.schedule import LinearSchedule

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def mlp(sizes, act, out_gain=1.0):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(act())
        with torch.no_grad():
            layers[-1].weight.mul_(out_gain)
        return nn.Sequential(*layers)

    class TorchDQN:
        def __init__(self):
            self.env = make_env(ENV)
            self.q, self.target = mlp([4, 128, 128, 2], nn.ReLU), mlp([4, 128, 128, 2], nn.ReLU)
            self.target.load_state_dict(self.q.state_dict())
            self.opt = torch.optim.Adam(self.q.parameters(), lr=1e-3)
            self.eps = LinearSchedule(1.0, 0.05, 10_000)
            n = 50_000
            self.obs, self.nxt = np.zeros((n, 4), np.float32), np.zeros((n, 4), np.float32)
            self.act_, self.rew, self.term = np.zeros(n, np.int64), np.zeros(n, np.float32), np.zeros(n, np.float32)
            self.pos = self.size = self.steps = 0
            self.returns = []

        def act(self, obs):
            with torch.no_grad():
                return self.q(torch.from_numpy(np.asarray(obs, np.float32))).argmax(1).numpy()

        def update(self):
            idx = rng.integers(0, self.size, 64)
            o, a, r, n, t = (torch.from_numpy(x[idx]) for x in (self.obs, self.act_, self.rew, self.nxt, self.term))
            with torch.no_grad():
                best = self.q(n).argmax(1, keepdim=True)
                target = r + 0.99 * (1 - t) * self.target(n).gather(1, best).squeeze(1)
            q = self.q(o).gather(1, a[:, None]).squeeze(1)
            loss = nn.functional.smooth_l1_loss(q, target)
            self.opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.q.parameters(), 10.0)
            self.opt.step()

        def unit(self):
            obs, _ = self.env.reset(seed=int(rng.integers(SEED_LIMIT)))
            done, ret = False, 0.0
            while not done:
                a = int(rng.integers(2)) if rng.random() < self.eps(self.steps) else int(self.act(obs[None])[0])
                nxt, r, term, trunc, _ = self.env.step(a)
                i = self.pos
                self.obs[i], self.act_[i], self.rew[i], self.nxt[i], self.term[i] = obs, a, r, nxt, term
                self.pos, self.size = (i + 1) % len(self.obs), min(self.size + 1, len(self.obs))
                self.steps += 1
                ret += r
                if self.size >= 1000:
                    self.update()
                if self.steps % 500 == 0:
                    self.target.load_state_dict(self.q.state_dict())
                obs, done = nxt, term or trunc
            self.returns.append(ret)

    class TorchA2C:
        def __init__(self, num_envs=8, n_steps=16):
            self.venv = make_vector_env(ENV, num_envs)
            self.policy = mlp([4, 64, 64, 2], nn.Tanh, 0.01)
            self.value = mlp([4, 64, 64, 1], nn.Tanh)
            self.params = [*self.policy.parameters(), *self.value.parameters()]
            self.opt = torch.optim.Adam(self.params, lr=1e-3)
            self.obs, _ = self.venv.reset(seed=[int(s) for s in rng.integers(SEED_LIMIT, size=num_envs)])
            self.N, self.T = num_envs, n_steps
            self.ep_ret = np.zeros(num_envs)
            self.steps, self.returns = 0, []

        def act(self, obs):
            with torch.no_grad():
                return self.policy(torch.from_numpy(np.asarray(obs, np.float32))).argmax(1).numpy()

        def unit(self):
            T, N = self.T, self.N
            obs_b, act_b = np.zeros((T, N, 4), np.float32), np.zeros((T, N), np.int64)
            rew_b, done_b, val_b = np.zeros((T, N)), np.zeros((T, N)), np.zeros((T, N))
            for t in range(T):
                with torch.no_grad():
                    x = torch.from_numpy(self.obs)
                    probs = torch.softmax(self.policy(x), 1).numpy().astype(np.float64)
                    val_b[t] = self.value(x)[:, 0].numpy()
                cdf = np.cumsum(probs, 1)
                a = np.minimum((cdf <= rng.random((N, 1)) * cdf[:, -1:]).sum(1), 1)
                obs_b[t], act_b[t] = self.obs, a
                self.obs, r, term, trunc, info = self.venv.step(a)
                self.steps += N
                self.ep_ret += r
                cut = trunc & ~term
                r = r.astype(np.float64)
                if cut.any():
                    with torch.no_grad():
                        fo = torch.from_numpy(np.stack(info["final_obs"][cut]).astype(np.float32))
                        r[cut] += 0.99 * self.value(fo)[:, 0].numpy()
                done = term | trunc
                rew_b[t], done_b[t] = r, done
                self.returns += self.ep_ret[done].tolist()
                self.ep_ret[done] = 0.0
            with torch.no_grad():
                last = self.value(torch.from_numpy(self.obs))[:, 0].numpy()
            adv, ret = gae(rew_b, val_b, done_b, last, 0.99, 0.95)
            adv = adv.reshape(-1)
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            x = torch.from_numpy(obs_b.reshape(-1, 4))
            logits = self.policy(x)
            logp = torch.log_softmax(logits, 1)
            neg = nn.functional.cross_entropy(logits, torch.from_numpy(act_b.reshape(-1)), reduction="none")
            pg = (neg * torch.from_numpy(adv.astype(np.float32))).mean()
            entropy = -(logp.exp() * logp).sum(1).mean()
            vloss = nn.functional.mse_loss(self.value(x)[:, 0], torch.from_numpy(ret.reshape(-1).astype(np.float32)))
            loss = pg - 0.01 * entropy + 0.5 * vloss
            self.opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.params, 0.5)
            self.opt.step()

    return {"dqn": TorchDQN, "a2c": TorchA2C}


def solve(lib: str, algo: str, seed: int, max_steps: int, eval_every: int) -> dict:
    """Train until solved or ``max_steps``; the measurements as a dict."""
    from gradlab.rl.envs import evaluate

    if lib == "torch":
        import torch

        torch.set_num_threads(1)
        agent = _torch_agents(seed)[algo]()
        unit, act = agent.unit, agent.act
        steps_of, returns_of = (lambda: agent.steps), (lambda: agent.returns)
    else:
        from gradlab.rl import make_agent
        from gradlab.rl.agent import single_blas_thread

        g = make_agent(algo, ENV, seed=seed)
        unit, act = g._train_unit, g.act
        steps_of, returns_of = (lambda: g.steps), (lambda: g.history["episode_return"])
    train_time, next_eval, result = 0.0, eval_every, None
    from contextlib import nullcontext

    ctx = single_blas_thread() if lib == "gradlab" else nullcontext()
    with ctx:
        while steps_of() < max_steps:
            t0 = time.perf_counter()
            while steps_of() < next_eval:
                unit()
            train_time += time.perf_counter() - t0
            next_eval += eval_every
            quick = evaluate(act, ENV, episodes=10, seed=10**6).mean()
            if quick >= SOLVED:
                full = evaluate(act, ENV, episodes=100, seed=2 * 10**6).mean()
                if full >= SOLVED:
                    result = float(full)
                    break
    return {"lib": lib, "algo": algo, "seed": seed, "solved": result is not None, "eval_mean_100": result,
            "steps": steps_of(), "episodes": len(returns_of()), "train_time_s": round(train_time, 2),
            "ms_per_1k_steps": round(1e6 * train_time / max(steps_of(), 1), 1)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--one", nargs=2, metavar=("LIB", "ALGO"), help="run one library/algorithm in this process")
    p.add_argument("--algos", nargs="+", default=["dqn", "a2c"], choices=["dqn", "a2c"])
    p.add_argument("--libs", nargs="+", default=["gradlab", "torch"], choices=["gradlab", "torch"])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=200_000)
    p.add_argument("--eval-every", type=int, default=5_000)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(solve(args.one[0], args.one[1], args.seed, args.max_steps, args.eval_every)), flush=True)
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(HERE.parent))
    for algo in args.algos:
        rows: dict[str, list[dict]] = {lib: [] for lib in args.libs}
        for r in range(args.rounds):
            libs = args.libs if r % 2 == 0 else args.libs[::-1]
            for lib in libs:
                cmd = [sys.executable, __file__, "--one", lib, algo, "--seed", str(args.seed + r),
                       "--max-steps", str(args.max_steps), "--eval-every", str(args.eval_every)]
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
                line = (out.stdout.strip().splitlines() or [json.dumps({"lib": lib, "error": out.stderr[-300:]})])[-1]
                rows[lib].append(json.loads(line))
                print(line, flush=True)
        if set(rows) == {"gradlab", "torch"}:
            ratios = [g["train_time_s"] / t["train_time_s"] for g, t in zip(rows["gradlab"], rows["torch"])
                      if g.get("solved") and t.get("solved")]
            print(f"{algo}: gradlab/torch time-to-solve ratio, median over {len(ratios)} solved rounds: "
                  f"{statistics.median(ratios):.2f}" if ratios else f"{algo}: no round solved by both")
            per_step = [g["ms_per_1k_steps"] / t["ms_per_1k_steps"] for g, t in zip(rows["gradlab"], rows["torch"])
                        if "ms_per_1k_steps" in g and "ms_per_1k_steps" in t]
            if per_step:
                print(f"{algo}: gradlab/torch training time per environment step, median over {len(per_step)} "
                      f"rounds: {statistics.median(per_step):.2f}")


if __name__ == "__main__":
    main()
