"""``gradlab export RUN_DIR --onnx model.onnx``: write a trained run's model as an ONNX file (batch axis dynamic).

The engine is :func:`gradlab.train.onnx_run.export_run`; this module only parses and reports.

>>> COMMAND.name
'export'
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gradlab.cli._parser import Command, UsageError, number, run_dir_argument
from gradlab.cli.evaluate import check_run_dir

__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``gradlab export``.

    >>> from gradlab.cli._parser import Parser
    >>> p = Parser(prog="x"); add_arguments(p); p.parse_args(["runs/a", "--onnx", "m.onnx"]).opset
    17
    """
    run_dir_argument(p, "a folder written by 'gradlab train' (its --out)")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write (needs gradlab[onnx])")
    p.add_argument("--opset", type=number(int, "--opset", 17, 21), default=17, metavar="N",
                   help="ONNX opset version, 17 to 21 (default 17)")
    p.add_argument("--data-dir", metavar="PATH", help="folder holding the dataset files (to read the input shape)")


def run(args: argparse.Namespace) -> int:
    """``gradlab export RUN_DIR --onnx FILE``: export, check the graph, report the file.

    >>> from gradlab.cli import main
    >>> main(["export", "no-such-run", "--onnx", "m.onnx"])  # the error goes to stderr
    2
    """
    run_dir = check_run_dir(args.run_dir)
    out = Path(args.onnx)
    if out.is_dir():
        raise UsageError(f"--onnx {str(out)!r} is a folder: give the path of the .onnx file to write")
    if not out.parent.is_dir():
        raise UsageError(f"--onnx: the folder {str(out.parent)!r} does not exist")
    from gradlab.train.onnx_run import export_run

    try:
        proto = export_run(run_dir, out, data_dir=args.data_dir, opset=args.opset)
    except ImportError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    inputs = ", ".join(i.name for i in proto.graph.input)
    print(f"wrote {out} (ONNX opset {args.opset}; inputs: {inputs}; outputs: "
          f"{', '.join(o.name for o in proto.graph.output)}; batch axis dynamic)")
    return 0


COMMAND = Command("export", "export a trained run to ONNX", add_arguments, run,
                  "Rebuild a model from RUN_DIR and write it as an ONNX file (checked with onnx.checker); "
                  "run it with ONNX Runtime: onnxruntime.InferenceSession(FILE).run(None, {'input': x}).")
