"""nnU-Net's default trainer with one change: the training length is a CPU-time budget.

``nnUNetv2_train`` finds this class through nnU-Net's own ``nnUNet_extTrainer`` search path
(``benchmarks/experiment/nnunet_peer.py`` sets it), so nnU-Net is still run through its own
command line. Everything else (plans, network, loss, deep supervision, augmentation,
optimizer, poly learning-rate schedule, sampling) is ``nnUNetTrainer``'s.

What differs, all of it training length:

* ``num_iterations_per_epoch`` and ``num_val_iterations_per_epoch`` (default 250 and 50) come from
  ``BONEREAD_NNUNET_ITERS`` and ``BONEREAD_NNUNET_VAL_ITERS``; shorter epochs let the poly
  schedule decay over many epochs within a small budget.
* ``num_epochs`` is fixed at the end of the first epoch: as many epochs as fit in
  ``BONEREAD_NNUNET_CPU_BUDGET_S`` CPU seconds of this process (user + system, all threads),
  at the first epoch's CPU cost; the poly schedule is re-aimed at that number (the first
  epoch runs at the initial learning rate either way). ``BONEREAD_NNUNET_EPOCHS`` fixes the
  number instead (the tiny end-to-end test).
* The final validation of ``nnUNetv2_train`` is skipped: the peer trains fold ``all``,
  whose validation cases are its training cases; the held-out test fold is predicted by
  ``nnUNetv2_predict`` instead.

With ``nnUNet_n_proc_DA=0`` data augmentation runs in this process, so its CPU time is
inside the budget, as MT-UNet's data loading is inside its own.
"""

from __future__ import annotations

import json
import os
import resource

import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class nnUNetTrainerBoneReadBudget(nnUNetTrainer):  # noqa: N801 (nnU-Net's naming)
    def __init__(
        self,
        plans: dict,
        configuration: str,
        fold: int,
        dataset_json: dict,
        device: torch.device = torch.device("cuda"),  # noqa: B008 (nnU-Net's signature)
    ):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.num_iterations_per_epoch = int(os.environ.get("BONEREAD_NNUNET_ITERS", 250))
        self.num_val_iterations_per_epoch = int(os.environ.get("BONEREAD_NNUNET_VAL_ITERS", 50))
        fixed = os.environ.get("BONEREAD_NNUNET_EPOCHS")
        self.fixed_epochs = int(fixed) if fixed else None
        self.cpu_budget_s = float(os.environ.get("BONEREAD_NNUNET_CPU_BUDGET_S", 0) or 0)
        if self.fixed_epochs is None and self.cpu_budget_s <= 0:
            raise RuntimeError("set BONEREAD_NNUNET_CPU_BUDGET_S or BONEREAD_NNUNET_EPOCHS")
        # a placeholder until the first epoch is measured (only the loop bound uses it)
        self.num_epochs = self.fixed_epochs or 10**6
        self.budget_record: dict = {}

    def run_training(self):
        """``nnUNetTrainer.run_training`` with a loop bound that is set after the first epoch."""
        self.on_train_start()
        start = cpu_seconds()
        while self.current_epoch < self.num_epochs:
            self.on_epoch_start()
            self.on_train_epoch_start()
            outputs = [
                self.train_step(next(self.dataloader_train))
                for _ in range(self.num_iterations_per_epoch)
            ]
            self.on_train_epoch_end(outputs)
            with torch.no_grad():
                self.on_validation_epoch_start()
                val = [
                    self.validation_step(next(self.dataloader_val))
                    for _ in range(self.num_val_iterations_per_epoch)
                ]
                self.on_validation_epoch_end(val)
            first = self.current_epoch == 0
            self.on_epoch_end()  # increments current_epoch
            if first and self.fixed_epochs is None:
                per_epoch = cpu_seconds() - start
                self.num_epochs = max(1, int(self.cpu_budget_s // max(per_epoch, 1e-6)))
                self.lr_scheduler.max_steps = self.num_epochs
                self.print_to_log_file(
                    f"CPU budget {self.cpu_budget_s:.0f} s, first epoch {per_epoch:.1f} CPU s: "
                    f"{self.num_epochs} epochs of {self.num_iterations_per_epoch} iterations"
                )
                self.budget_record["first_epoch_cpu_s"] = per_epoch
        self.budget_record.update(
            {
                "epochs": self.num_epochs,
                "iterations_per_epoch": self.num_iterations_per_epoch,
                "val_iterations_per_epoch": self.num_val_iterations_per_epoch,
                "iterations": self.num_epochs * self.num_iterations_per_epoch,
                "batch_size": self.batch_size,
                "cpu_budget_s": self.cpu_budget_s or None,
                "training_cpu_s": cpu_seconds() - start,
                "torch_threads": torch.get_num_threads(),
            }
        )
        with open(os.path.join(self.output_folder, "boneread_budget.json"), "w") as fh:
            json.dump(self.budget_record, fh, indent=2)
        self.on_train_end()

    def perform_actual_validation(self, save_probabilities: bool = False):
        """Skipped: fold ``all`` validates on its own training cases (see the module doc)."""
        self.print_to_log_file("final validation skipped (fold all; the test fold is predicted)")
