"""``gradlab rl train|play``: reinforcement learning on Gymnasium environments (the ``rl`` extra).

``gradlab rl train --algo dqn --env CartPole-v1 --out runs/cartpole`` trains an agent into a run folder
(:mod:`gradlab.rl.run`); ``gradlab rl play runs/cartpole --episodes 10`` plays its greedy policy and prints the
returns (``--record DIR`` also saves one episode as an MP4 when moviepy and pygame are installed).

>>> COMMAND.name
'rl'
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, check_out, number, parse_hidden, run_dir_argument

__all__ = ["COMMAND", "add_arguments", "run", "ALGOS", "DEFAULT_ENV", "DEFAULT_ALGO"]

ALGOS = ("dqn", "a2c", "reinforce")  #: the algorithms of ``--algo`` (gradlab.rl.ALGORITHMS, without importing it)
DEFAULT_ALGO = "dqn"
DEFAULT_ENV = "CartPole-v1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The subcommands of ``gradlab rl`` and their options.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="gradlab rl"); add_arguments(p)
    >>> a = p.parse_args(["train", "--algo", "a2c", "--out", "runs/x", "--steps", "100"]); a.algo, a.steps
    ('a2c', 100)
    """
    sub = p.add_subparsers(dest="rl_command", metavar="SUBCOMMAND", title="subcommands")
    t = sub.add_parser("train", help="train an agent into a run folder",
                       description="Train an agent on a Gymnasium environment and write a run folder (config, "
                       "weights, checkpoint, history of episode returns, curves.png).")
    t.add_argument("--algo", choices=ALGOS, default=None, help=f"algorithm (default {DEFAULT_ALGO}; a resumed run "
                   "keeps its own)")
    t.add_argument("--env", default=None, metavar="ID",
                   help=f"Gymnasium environment id with discrete actions (default {DEFAULT_ENV})")
    t.add_argument("--out", required=True, metavar="DIR", help="the run folder")
    t.add_argument("--steps", type=number(int, "--steps", 1), default=50_000, metavar="N",
                   help="environment steps in total, a resumed run's included (default 50000)")
    t.add_argument("--seed", type=number(int, "--seed", 0), default=0, help="random seed >= 0 (default 0)")
    t.add_argument("--lr", type=number(float, "--lr", 0.0, None, low_open=True), default=None,
                   help="learning rate (default: the algorithm's)")
    t.add_argument("--gamma", type=number(float, "--gamma", 0.0, 1.0, high_open=False), default=None,
                   help="discount factor in [0, 1] (default 0.99)")
    t.add_argument("--hidden", type=parse_hidden, default=None, metavar="SIZES",
                   help="hidden layer widths, comma-separated (default: the algorithm's)")
    t.add_argument("--num-envs", type=number(int, "--num-envs", 1, 1024, high_open=False), default=None,
                   metavar="N", help="parallel environments (a2c only; default 8)")
    t.add_argument("--checkpoint-every", type=number(int, "--checkpoint-every", 1), default=10_000, metavar="N",
                   help="save the checkpoint and history every N steps (default 10000)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    t.add_argument("--overwrite", action="store_true", help="replace the earlier run in a non-empty --out")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    pl = sub.add_parser("play", help="play a trained agent's greedy policy",
                        description="Play the greedy policy of a 'gradlab rl train' run folder and print the "
                        "return of each episode and their mean.")
    run_dir_argument(pl, "a folder written by 'gradlab rl train' (its --out)")
    pl.add_argument("--episodes", type=number(int, "--episodes", 1, 10_000, high_open=False), default=10,
                    metavar="N", help="episodes to play (default 10)")
    pl.add_argument("--seed", type=number(int, "--seed", 0), default=0,
                    help="seed of the first episode; episode i uses seed + i (default 0)")
    pl.add_argument("--record", metavar="DIR", default=None,
                    help="also save the first episode as an MP4 in DIR (needs moviepy and pygame)")


def _rl():  # the optional extra, imported when a subcommand runs
    try:
        from gradlab import rl
        rl.require_gymnasium()
    except ImportError as e:
        raise RuntimeError(str(e)) from None
    return rl


def _train(args: argparse.Namespace) -> int:
    rl = _rl()
    from gradlab.rl.envs import action_count
    from gradlab.train.jsonfile import read_json

    out = Path(args.out)
    mode = check_out(out, args)
    algo, env_id = args.algo or DEFAULT_ALGO, args.env or DEFAULT_ENV
    if mode == "resume" and (out / "checkpoint" / "checkpoint.json").is_file():
        saved = read_json(out / "config.json") if (out / "config.json").is_file() else {}
        for flag, given, key in (("--algo", args.algo, "algo"), ("--env", args.env, "env")):
            if given is not None and given != saved.get(key):
                raise UsageError(f"{flag} {given} does not match the run being resumed ({saved.get(key)})")
        algo, env_id = saved.get("algo", algo), saved.get("env", env_id)
        for flag, given in (("--lr", args.lr), ("--gamma", args.gamma), ("--hidden", args.hidden),
                            ("--num-envs", args.num_envs)):
            if given is not None:
                raise UsageError(f"{flag} cannot change when resuming: the run keeps its saved configuration")
    try:
        env = rl.make_env(env_id)
    except ValueError as e:
        raise UsageError(f"--env: {e}") from None
    try:
        action_count(env, f"--algo {algo}")
    except ValueError as e:
        raise UsageError(str(e)) from None
    finally:
        env.close()
    if args.num_envs is not None and algo != "a2c":
        raise UsageError(f"--num-envs applies to --algo a2c only, not {algo}")
    hyper = {k: v for k, v in (("lr", args.lr), ("gamma", args.gamma), ("num_envs", args.num_envs),
                               ("hidden", args.hidden)) if v is not None}
    log = None if args.quiet else (lambda line: print(line, flush=True))
    agent = rl.train_run(out, algo, env_id, steps=args.steps, seed=args.seed, resume=args.resume,
                         overwrite=args.overwrite, checkpoint_every=args.checkpoint_every, log=log, **hyper)
    print(f"{algo} on {env_id}: {agent.steps} steps, {len(agent.history['episode_return'])} episodes, "
          f"mean return of the last 100 {agent.mean_return(100):.1f}; run folder {out}")
    return 0


def _play(args: argparse.Namespace) -> int:
    rl = _rl()
    from gradlab.cli.evaluate import check_run_dir
    from gradlab.rl.run import record_episode

    run_dir = check_run_dir(args.run_dir, ("config.json", "weights.safetensors"), "'gradlab rl train'")
    agent = rl.load_run(run_dir)
    returns = agent.evaluate(args.episodes, seed=args.seed)
    for i, r in enumerate(returns):
        print(f"episode {i + 1}: return {r:g}")
    print(f"mean return over {len(returns)} episodes: {returns.mean():.2f} (std {returns.std():.2f})")
    if args.record is not None:
        try:
            files = record_episode(agent, args.record, seed=args.seed)
        except RuntimeError as e:
            print(f"gradlab rl play: cannot record: {e}", file=sys.stderr)
            return 1
        print(f"recorded {', '.join(str(f) for f in files) or 'nothing'}")
    return 0


def run(args: argparse.Namespace) -> int:
    """``gradlab rl train|play``.

    >>> from gradlab.cli import main
    >>> main(["rl", "train", "--no-such-flag"])  # a bad flag: the usage error goes to stderr, exit status 2
    2
    """
    if args.rl_command == "train":
        return _train(args)
    if args.rl_command == "play":
        return _play(args)
    raise UsageError("a subcommand is required (train, play); see 'gradlab rl --help'")


COMMAND = Command("rl", "reinforcement learning on Gymnasium environments (train, play)", add_arguments, run,
                  "Train a DQN, A2C or REINFORCE agent on a Gymnasium environment ('gradlab rl train'), or play a "
                  "trained one ('gradlab rl play'). Needs the rl extra: pip install gradlab[rl].")
