"""`boneread-ml` command line: one sub-command per pipeline stage.

Each sub-command lives in its own module under ``boneread_ml.cli`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> module; a module is imported only when its sub-command runs, so that
# `boneread-ml synth` does not pay for importing torch.
SUBCOMMANDS: dict[str, str] = {
    "synth": "boneread_ml.cli.synth",
    "synth-figure": "boneread_ml.cli.figures",
    "train": "boneread_ml.cli.train",
    "pretrain": "boneread_ml.cli.pretrain",
    "evaluate": "boneread_ml.cli.evaluate",
    "floor": "boneread_ml.cli.floor",
    "predict": "boneread_ml.cli.predict",
    "stats": "boneread_ml.stats.cli",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boneread-ml", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    # build only the chosen sub-command's parser when it is named (so that `stats` does not
    # import torch through `train`); every parser for --help or an unknown command
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    names = [chosen] if chosen in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in names:
        module_name = SUBCOMMANDS[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        modules[name] = module
        sp = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_arguments(sp)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
