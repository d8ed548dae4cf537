"""REINFORCE, A2C and DQN on CartPole-v1, each trained from the same seed, their returns on one plot.

    python examples/rl_cartpole.py [--steps 50000] [--out rl_cartpole.png]

Each curve is the return of every training episode (faint) and its 20-episode moving average, against the
environment steps taken (A2C's eight parallel environments count eight steps per tick). At the end each greedy
policy plays 20 evaluation episodes. Needs the rl extra: pip install gradlab[rl].
"""

from __future__ import annotations

import argparse
import time

from gradlab.rl import make_agent, plot_returns

__all__ = ["main", "RECIPES"]

#: The settings compared (the algorithms' defaults, with DQN's exploration shortened to the budget).
RECIPES = {
    "reinforce": {},
    "a2c": {},
    "dqn": {"eps_steps": 5_000, "learning_starts": 500},
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=50_000, help="environment steps per algorithm (default 50000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="rl_cartpole.png", help="the plot (default rl_cartpole.png)")
    args = p.parse_args(argv)
    returns, steps = {}, {}
    for algo, hyper in RECIPES.items():
        t0 = time.perf_counter()
        agent = make_agent(algo, "CartPole-v1", seed=args.seed, **hyper).learn(args.steps)
        evaluation = agent.evaluate(20)
        print(f"{algo:>9}: {len(agent.history['episode_return'])} episodes in {agent.steps} steps, "
              f"{time.perf_counter() - t0:.0f} s; last-20 training mean {agent.mean_return(20):.1f}; "
              f"greedy evaluation {evaluation.mean():.1f} +- {evaluation.std():.1f}")
        returns[algo] = agent.history["episode_return"]
        steps[algo] = agent.history["episode_end_step"]
    path = plot_returns(returns, args.out, steps=steps, title="CartPole-v1: return per episode")
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
