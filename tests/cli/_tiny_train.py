"""``python tests/cli/_tiny_train.py ARGS``: ``gradlab ARGS`` with ``--dataset mnist-tiny`` registered (the first 400
MNIST training and 100 test images), for the kill-and-resume tests that SIGKILL real ``gradlab train`` processes."""

from __future__ import annotations

import sys


def main() -> int:
    from gradlab.cli import main as gradlab_main
    from gradlab.train import experiment

    mnist = experiment.DATASETS["mnist"]

    def tiny(train=True, root=None):
        x, y, info = mnist(train=train, root=root)
        n = 400 if train else 100
        return x[:n], y[:n], info

    experiment.register_dataset("mnist-tiny", tiny)
    return gradlab_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
