"""Run one of nnU-Net v2's console commands (``nnUNetv2_train`` ...) by its entry point.

    python benchmarks/experiment/nnunet_cli.py nnUNetv2_train 501 2d all -tr ... -device cpu

The command, its arguments and its code are nnU-Net's own (the entry point that the
``nnUNetv2_*`` console script calls). One thing differs where ``timm`` cannot be imported:
nnU-Net's trainer search (used by ``-tr NAME`` in training and prediction) imports every
module under ``nnunetv2.training.nnUNetTrainer`` until it finds the class, and the Primus
trainers' module imports ``timm``, which imports ``torchvision``. PyPI's torchvision for
torch 2.13 is a CUDA build whose extension does not load next to the CPU torch of the
development machines (and installing it breaks ``transformers``), so requirements-nnunet.txt
leaves both out. Then this launcher marks that one module as absent, which nnU-Net's search
skips as "not importable" and goes on to its own variants and to ``nnUNet_extTrainer``. With
a working timm (e.g. torchvision from PyPI's CPU index) nothing is changed.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

PRIMUS = "nnunetv2.training.nnUNetTrainer.primus.primus_trainers"


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: nnunet_cli.py nnUNetv2_COMMAND [ARGS...]")
    name, args = argv[0], argv[1:]
    matches = [e for e in entry_points(group="console_scripts") if e.name == name]
    if not matches or not matches[0].value.startswith("nnunetv2."):
        raise SystemExit(f"{name} is not an nnU-Net v2 command")
    try:
        import timm  # noqa: F401
    except Exception:  # ImportError, or torchvision's RuntimeError
        sys.modules[PRIMUS] = None  # import of it raises ModuleNotFoundError(name=PRIMUS)
    sys.argv = [name, *args]
    result = matches[0].load()()
    return int(result or 0) if isinstance(result, int | None) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
