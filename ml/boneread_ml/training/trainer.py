"""One trainer with hooks: ``train_step``, ``validation_step``, ``on_epoch_end``, ``save_checkpoint``.

A variant (a model without text, a frozen encoder, another loss) changes one
thing and keeps the loop. Training is step-budgeted (``max_steps``) so that
models are compared under an equal budget, resumable from ``last.pt``
(weights, optimizer, scheduler, step, epoch, config, build arguments and RNG
states) and deterministic for a given seed on a given machine.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from boneread_ml.evaluation.metrics import LESION_CLASSES
from boneread_ml.training.losses import GroundingLoss, SegmentationLoss

logger = logging.getLogger(__name__)

ENCODER_PREFIXES = ("conv_0", "down_", "net.")
DECODER_PREFIXES = ("upcat_", "final_conv", "fusion")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def set_frozen(model: nn.Module, groups: list[str], frozen: bool) -> int:
    """Freeze or unfreeze parameter groups.

    Args:
        model: the network.
        groups: ``text_encoder``, ``encoder`` (image encoder) or ``decoder``.
        frozen: True to freeze.

    Returns:
        Number of parameter tensors changed.
    """
    prefixes: list[str] = []
    for g in groups:
        if g == "text_encoder":
            prefixes.append("text_encoder.")
        elif g == "encoder":
            prefixes += list(ENCODER_PREFIXES)
        elif g == "decoder":
            prefixes += list(DECODER_PREFIXES)
        else:
            raise ValueError(f"unknown parameter group {g!r} (text_encoder, encoder, decoder)")
    changed = 0
    for name, p in model.named_parameters():
        if any(name.startswith(pre) for pre in prefixes):
            p.requires_grad_(not frozen)
            changed += 1
    return changed


class Trainer:
    """Step-budgeted segmentation trainer.

    Args:
        model: network called as ``model(image, input_ids, attention_mask)``.
        config: the experiment config (see :mod:`boneread_ml.training.config`).
        train_loader: batches from :class:`~boneread_ml.data.datasets.TextCollate`.
        val_loader: validation batches (no text dropout), or None.
        out_dir: where ``last.pt`` and logs go.
        uses_text: feed the report tokens to the model.
        build_args: :func:`~boneread_ml.models.build_model` arguments, stored in checkpoints.
        device: torch device.
    """

    def __init__(
        self,
        model: nn.Module,
        config: dict[str, Any],
        train_loader: DataLoader,
        val_loader: DataLoader | None,
        out_dir: str | Path,
        *,
        uses_text: bool,
        build_args: dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.to(device)
        self.config = config
        self.tcfg = config["train"]
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.uses_text = uses_text
        self.build_args = build_args or {}
        self.device = torch.device(device)
        self.loss_fn = SegmentationLoss(class_weights=self.tcfg.get("ce_class_weights")).to(device)
        # report grounding: only for a text model built with the grounding heads
        self.grounding_fn = (
            GroundingLoss(
                float(self.tcfg.get("grounding_site_weight", 1.0)),
                float(self.tcfg.get("grounding_case_weight", 0.5)),
            )
            if uses_text and getattr(model, "grounding_stage", None) is not None
            else None
        )
        self.optimizer = self._make_optimizer()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.step = 0
        self.epoch = 0
        self.best_score = -math.inf
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[dict[str, Any]] = []
        self.amp = bool(self.tcfg.get("amp")) and self.device.type == "cuda"
        if self.tcfg.get("freeze"):
            n = set_frozen(self.model, list(self.tcfg["freeze"]), True)
            logger.info("froze %d parameter tensors (%s)", n, self.tcfg["freeze"])

    # -- set-up -------------------------------------------------------------
    def _make_optimizer(self) -> torch.optim.Optimizer:
        text, other = [], []
        for name, p in self.model.named_parameters():
            (text if name.startswith("text_encoder.") else other).append(p)
        groups = [{"params": other, "lr": float(self.tcfg["lr"])}]
        if text:
            groups.append(
                {"params": text, "lr": float(self.tcfg.get("text_lr") or self.tcfg["lr"])}
            )
        return torch.optim.AdamW(groups, weight_decay=float(self.tcfg["weight_decay"]))

    def _lr_factor(self, step: int) -> float:
        warm = max(1, int(self.tcfg.get("warmup_steps", 0)))
        total = max(1, int(self.tcfg["max_steps"]))
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))

    def _kwargs(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Extra inputs of the network: the report's site maps when the batch has them."""
        if self.uses_text and "site_maps" in batch:
            return {"site_maps": batch["site_maps"].to(self.device)}
        return {}

    def _inputs(self, batch: dict[str, Any]) -> tuple[Any, ...]:
        image = batch["image"].to(self.device)
        extent = batch["extent"].to(self.device) if "extent" in batch else None
        if not self.uses_text:
            return image, None, None, extent
        ids, mask = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
        return image, ids, mask, extent

    # -- hooks --------------------------------------------------------------
    def train_step(self, batch: dict[str, Any]) -> float:
        """One optimizer step on one batch; returns the loss."""
        self.model.train()
        image, ids, mask, extent = self._inputs(batch)
        label = batch["label"].to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            kwargs = self._kwargs(batch)
            if self.grounding_fn is None:
                logits = self.model(image, ids, mask, extent=extent, **kwargs)
            else:
                logits, aux = self.model(image, ids, mask, extent=extent, return_aux=True, **kwargs)
        weight = batch.get("pixel_weight")
        loss = self.loss_fn(logits, label, weight.to(self.device) if weight is not None else None)
        if self.grounding_fn is not None and aux:
            loss = loss + self.grounding_fn(
                aux,
                label,
                batch["case_classes"].to(self.device),
                batch["has_text"].to(self.device),
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.tcfg.get("grad_clip"):
            nn.utils.clip_grad_norm_(self.model.parameters(), float(self.tcfg["grad_clip"]))
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())

    @torch.no_grad()
    def validation_step(self, batch: dict[str, Any]) -> list[tuple[str, dict[int, np.ndarray]]]:
        """Predict a batch; return per item (case_id, {class: [tp, fp, fn]})."""
        self.model.eval()
        image, ids, mask, extent = self._inputs(batch)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            logits = self.model(image, ids, mask, extent=extent, **self._kwargs(batch))
        pred = logits.argmax(1).cpu().numpy()
        label = batch["label"].numpy()
        out = []
        for i, case_id in enumerate(batch["case_id"]):
            counts = {}
            for c in LESION_CLASSES:
                p, t = pred[i] == c, label[i] == c
                counts[c] = np.array(
                    [np.sum(p & t), np.sum(p & ~t), np.sum(~p & t)], dtype=np.int64
                )
            out.append((case_id, counts))
        return out

    def validate(self) -> dict[str, float]:
        """Mean over validation cases of the mean lesion-class Dice (counts pooled per case)."""
        if self.val_loader is None:
            return {}
        per_case: dict[str, dict[int, np.ndarray]] = defaultdict(
            lambda: {c: np.zeros(3, np.int64) for c in LESION_CLASSES}
        )
        for batch in self.val_loader:
            for case_id, counts in self.validation_step(batch):
                for c, v in counts.items():
                    per_case[case_id][c] += v
        scores, by_class = [], defaultdict(list)
        for counts in per_case.values():
            dices = []
            for c, (tp, fp, fn) in counts.items():
                if tp + fp + fn > 0:
                    d = 2 * tp / (2 * tp + fp + fn)
                    dices.append(d)
                    by_class[c].append(d)
            if dices:
                scores.append(float(np.mean(dices)))
        result = {"val_mean_class_dice": float(np.mean(scores)) if scores else float("nan")}
        for c, name in LESION_CLASSES.items():
            result[f"val_{name}_dice"] = (
                float(np.mean(by_class[c])) if by_class[c] else float("nan")
            )
        return result

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """Log an epoch summary (override to add early stopping, plots...)."""
        logger.info(
            "epoch %d step %d: %s",
            epoch,
            self.step,
            {k: round(v, 4) for k, v in logs.items() if isinstance(v, float)},
        )

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write a resumable checkpoint (default ``out_dir/last.pt``)."""
        path = Path(path) if path else self.out_dir / "last.pt"
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "step": self.step,
                "epoch": self.epoch,
                "best_score": self.best_score,
                "best_state": self.best_state,
                "history": self.history,
                "config": self.config,
                "build_args": self.build_args,
                "rng": {
                    "python": random.getstate(),
                    "numpy": np.random.get_state(),
                    "torch": torch.get_rng_state(),
                },
            },
            path,
        )
        return path

    def load_checkpoint(self, path: str | Path) -> None:
        """Resume from a checkpoint written by :meth:`save_checkpoint`."""
        ckpt = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.step, self.epoch = int(ckpt["step"]), int(ckpt["epoch"])
        self.best_score, self.best_state = ckpt["best_score"], ckpt["best_state"]
        self.history = ckpt.get("history", [])
        random.setstate(ckpt["rng"]["python"])
        np.random.set_state(ckpt["rng"]["numpy"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        logger.info("resumed from %s at step %d", path, self.step)

    # -- loop ---------------------------------------------------------------
    def _maybe_validate(self, logs: dict[str, Any]) -> None:
        metrics = self.validate()
        logs.update(metrics)
        score = metrics.get("val_mean_class_dice", float("nan"))
        if not math.isnan(score) and score > self.best_score:
            self.best_score = score
            self.best_state = {
                k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
            }

    def fit(self) -> dict[str, Any]:
        """Train until ``max_steps``; returns the history and the best score."""
        max_steps = int(self.tcfg["max_steps"])
        val_every = int(self.tcfg.get("val_every") or 0)
        unfreeze_at = self.tcfg.get("unfreeze_at_step")
        start = time.perf_counter()
        images_seen = 0
        bar = tqdm(
            total=max_steps,
            initial=self.step,
            desc=self.config.get("experiment", "train"),
            leave=False,
        )
        while self.step < max_steps:
            losses = []
            for batch in self.train_loader:
                if (
                    unfreeze_at is not None
                    and self.step == int(unfreeze_at)
                    and self.tcfg.get("freeze")
                ):
                    set_frozen(self.model, list(self.tcfg["freeze"]), False)
                    logger.info("unfroze %s at step %d", self.tcfg["freeze"], self.step)
                losses.append(self.train_step(batch))
                images_seen += batch["image"].shape[0]
                self.step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
                if val_every and self.step % val_every == 0 and self.step < max_steps:
                    logs = {"step": self.step, "loss": float(np.mean(losses[-val_every:]))}
                    self._maybe_validate(logs)
                    self.history.append(logs)
                    self.save_checkpoint()
                if self.step >= max_steps:
                    break
            self.epoch += 1
            logs = {
                "epoch": self.epoch,
                "step": self.step,
                "loss": float(np.mean(losses)) if losses else float("nan"),
            }
            if self.step >= max_steps:
                self._maybe_validate(logs)
            self.history.append(logs)
            self.on_epoch_end(self.epoch, logs)
            self.save_checkpoint()
        bar.close()
        elapsed = time.perf_counter() - start
        if self.best_state is None:  # no validation set: the final weights are the result
            self.best_state = {
                k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
            }
        return {
            "best_val_mean_class_dice": self.best_score if self.best_score > -math.inf else None,
            "steps": self.step,
            "seconds": elapsed,
            "images_per_second": images_seen / elapsed if elapsed > 0 else None,
            "history": self.history,
        }

    def best_model(self) -> nn.Module:
        """The model with the best validation weights loaded."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.model.eval()
