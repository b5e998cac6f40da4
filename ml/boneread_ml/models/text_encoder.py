"""Report encoder: a BERT (MacBERT when given, a small one offline) over characters."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import BertConfig, BertModel

logger = logging.getLogger(__name__)

#: The offline default: small enough to train with the segmenter on 2 CPU cores.
SMALL_BERT: dict[str, Any] = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "max_position_embeddings": 512,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


@dataclass
class TextFeatures:
    """Encoded report.

    Attributes:
        tokens: per-token features, shape (B, T, D).
        mask: True where a token is real (not padding), shape (B, T).
        pooled: masked mean of the token features, shape (B, D).
    """

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor


class ReportEncoder(nn.Module):
    """BERT over a tokenized report, returning token features and a pooled vector.

    Args:
        bert: a :class:`transformers.BertModel` (random small config or MacBERT).
    """

    def __init__(self, bert: BertModel) -> None:
        super().__init__()
        self.bert = bert
        self.hidden_size = int(bert.config.hidden_size)

    @classmethod
    def small(cls, vocab_size: int, **overrides: Any) -> ReportEncoder:
        """A randomly initialised small BERT (offline default).

        Args:
            vocab_size: size of the tokenizer's vocabulary.
            **overrides: BertConfig fields to change (hidden_size, layers...).
        """
        cfg = {**SMALL_BERT, **overrides, "vocab_size": int(vocab_size)}
        return cls(BertModel(BertConfig(**cfg), add_pooling_layer=False))

    @classmethod
    def from_config_dict(cls, config: dict[str, Any]) -> ReportEncoder:
        """Rebuild the architecture from ``BertConfig.to_dict()`` (weights loaded later)."""
        return cls(BertModel(BertConfig.from_dict(config), add_pooling_layer=False))

    @classmethod
    def from_pretrained(cls, path: str | Path) -> ReportEncoder:
        """Load a local BERT folder (e.g. a copy of hfl/chinese-macbert-base).

        Args:
            path: folder with ``config.json`` and weights, as written by
                ``save_pretrained``. Nothing is downloaded.

        Raises:
            FileNotFoundError: when the folder or its config is missing.
        """
        path = Path(path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"no BERT config.json in {path}")
        bert = BertModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
        logger.info(
            "loaded text encoder from %s (%d layers, hidden %d)",
            path,
            bert.config.num_hidden_layers,
            bert.config.hidden_size,
        )
        return cls(bert)

    def config_dict(self) -> dict[str, Any]:
        """The BERT config as a JSON-able dict."""
        return self.bert.config.to_dict()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextFeatures:
        """Encode a batch of tokenized reports.

        Args:
            input_ids: token ids, shape (B, T), long.
            attention_mask: 1 for real tokens, 0 for padding, shape (B, T).

        Returns:
            :class:`TextFeatures` with tokens (B, T, D), mask (B, T), pooled (B, D).
        """
        if input_ids.ndim != 2 or input_ids.shape != attention_mask.shape:
            raise ValueError(
                f"input_ids and attention_mask must both be (B, T), got "
                f"{tuple(input_ids.shape)} and {tuple(attention_mask.shape)}"
            )
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        tokens = out.last_hidden_state
        mask = attention_mask.bool()
        weights = mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        return TextFeatures(tokens=tokens, mask=mask, pooled=pooled)
