"""Pre-train the character BERT report encoder on the report corpus with MacBERT's objective.

MacBERT (Cui et al., 2020, "Revisiting Pre-Trained Models for Chinese Natural Language
Processing") changes BERT's masked-language-model task into *MLM as correction*:

* **No [MASK] token.** Of the selected positions, 80% are replaced by a *similar* token,
  10% by a random token and 10% are left unchanged; the model predicts the original token at
  every selected position. Pre-training and fine-tuning then see the same kind of input.
* **Whole-word and N-gram masking.** Selection is by words, not characters: a selected word
  is corrupted as a whole, and spans of 1-4 words are chosen with probabilities
  40/30/20/10%, until about 15% of the tokens are selected.

MacBERT takes its similar words from a word2vec similarity toolkit. This project has no
word vectors and no download, so it derives similarity the same way word2vec does, from the
corpus itself: two tokens are similar when they occur between the same neighbours.
:func:`similar_token_table` gives every token a context vector (counts of its left and right
neighbour tokens), and each token's similar tokens are the ``k`` others with the highest
cosine similarity above a floor. On the seed-0 planar report corpus this gives 左 -> 右, 两;
胸 -> 腰, 颈; 5 -> 7, 8; 转 -> 骼, 折 (骨转移 / 骨骼 / 骨折): the confusions a report's grounding
depends on. A token without similar tokens (below the floor) gets a random one instead.
Random replacements are drawn from the tokens of the corpus (not the 7,553-token GB2312
vocabulary, most of which a report never uses and which would be trivial to spot).

Words come from :func:`segment`, a forward maximum-matching segmenter over the phantom's term
vocabulary (:func:`phantom_lexicon`): region names split into side and site ("左侧" + "第5肋",
"第3腰椎", "髂骨"), the report generator's shape and class terms, cancer names and a short list
of report words (:data:`REPORT_WORDS`; the generator's multi-word phrases such as 骨代谢异常活跃
are left to these words and to the N-gram spans); runs of ASCII letters/digits are one word ("99mTc", "740"), and
every other character is a word of its own.

The corpus (:func:`report_corpus`) is the reports of the training folds of a phantom data root,
each also rewritten at several informativeness levels (other sentences, same case); the
held-out fold's reports are never read.

The result is a folder that the ``--text-encoder PATH`` route loads like a local MacBERT copy:
``config.json`` + ``model.safetensors`` (``BertForMaskedLM``; the segmenter loads its ``bert``
part) and the project's tokenizer files.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)

#: MacBERT's proportions
MASK_RATE = 0.15
NGRAM_PROBS = (0.4, 0.3, 0.2, 0.1)  # spans of 1, 2, 3, 4 words
REPLACE_SIMILAR, REPLACE_RANDOM = 0.8, 0.1  # the remaining 0.1 keep the original token

#: Report words beyond the phantom's region and phrase tables (forward maximum matching).
REPORT_WORDS = (
    "临床病史",
    "检查所见",
    "诊断意见",
    "静脉注射",
    "小时",
    "全身",
    "前、后位",
    "骨显像",
    "断层融合显像",
    "显影",
    "清晰",
    "放射性",
    "分布",
    "对称",
    "均匀",
    "未见",
    "明显",
    "明确",
    "异常",
    "浓聚",
    "浓聚灶",
    "稀疏",
    "缺损区",
    "摄取",
    "增高",
    "示踪剂",
    "骨代谢",
    "活跃",
    "考虑",
    "符合",
    "提示",
    "不除外",
    "可能性大",
    "可能",
    "转移",
    "骨转移",
    "转移瘤",
    "转移性",
    "病变",
    "退行性",
    "退行性变",
    "退行性改变",
    "骨质增生",
    "骨赘",
    "骨折",
    "陈旧性",
    "终板",
    "良性",
    "关节",
    "脊柱",
    "肋骨",
    "其余",
    "骨骼",
    "建议",
    "结合",
    "临床",
    "随访",
    "复查",
    "评估",
    "初诊",
    "分期",
    "术后",
    "化疗",
    "确诊",
    "了解",
    "有无",
    "疼痛",
    "骨痛",
    "待查",
    "外伤史",
    "跌倒",
    "体检",
    "发现",
    "碱性磷酸酶",
    "升高",
    "双肾",
    "膀胱",
    "较淡",
    "不明显",
    "多发",
    "串珠样",
    "单发",
    "胸部",
    "胸腰段",
    "腰骶部",
    "骨盆",
    "多处",
    "腰背部",
    "活动后",
    "多年",
    "双膝关节",
    "左右",
    "基本",
    "呈",
    "可见",
    "所致",
    "形成",
    "多系",
    "改变",
    "多考虑",
    "征象",
    "检查",
    "所见",
)
SIDE_WORDS = ("左侧", "右侧", "双侧", "两侧")
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def phantom_lexicon() -> set[str]:
    """The phantom's term vocabulary, as words for whole-word masking."""
    from boneread_ml.data import reports
    from boneread_ml.data.phantom import lesions, regions

    words: set[str] = set(REPORT_WORDS) | set(SIDE_WORDS)
    for region in regions.REGIONS:
        name = region.name_cn
        for side in SIDE_WORDS:
            if name.startswith(side):
                name = name[len(side) :]
        if name:
            words.add(name)
    # the uptake phrases (骨代谢异常活跃...) are several words; their words are in REPORT_WORDS
    for group in (reports.SHAPE_MET, reports.SHAPE_BENIGN, reports.METASTATIC_TERMS,
                  reports.BENIGN_TERMS):  # fmt: skip
        words.update(group)
    words.update(c[1] for c in lesions.CANCERS)
    return {w for w in words if w}


_ASCII_RUN = re.compile(r"[0-9A-Za-z.]+")


def segment(text: str, lexicon: Iterable[str]) -> list[tuple[int, int]]:
    """Forward maximum matching: the (start, end) character spans of the words of ``text``.

    Lexicon words are matched longest first; a run of ASCII letters/digits is one word;
    any other character (including punctuation) is a word of its own. Whitespace is skipped.
    """
    lex = set(lexicon)
    longest = max((len(w) for w in lex), default=1)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        m = _ASCII_RUN.match(text, i)
        if m and text[i].isascii() and text[i].isalnum():
            spans.append((i, m.end()))
            i = m.end()
            continue
        for n in range(min(longest, len(text) - i), 0, -1):
            if n == 1 or text[i : i + n] in lex:
                spans.append((i, i + n))
                i += n
                break
    return spans


def report_corpus(
    data_root: str | Path,
    exclude_folds: Sequence[int] = (0,),
    rewrite_informativeness: Sequence[float] = (0.5, 0.75, 1.0),
) -> list[str]:
    """Report texts of the training folds, each also rewritten at other informativeness levels.

    Args:
        data_root: phantom data root (``manifest.json``).
        exclude_folds: folds whose reports are never read (the experiment's test fold).
        rewrite_informativeness: the same cases' reports written again at these levels
            (:func:`boneread_ml.data.manifest.rewrite_report`): other sentences, same truth.

    Returns:
        Distinct texts, in manifest order.
    """
    from boneread_ml.data.datasets import read_manifest
    from boneread_ml.data.manifest import rewrite_report

    manifest = read_manifest(data_root)
    excluded = {int(f) for f in exclude_folds}
    texts: list[str] = []
    for case in manifest["cases"]:
        if int(case["fold"]) in excluded:
            continue
        texts.append(case["report"]["text"])
        for level in rewrite_informativeness:
            texts.append(rewrite_report(manifest, case, float(level))["text"])
    return list(dict.fromkeys(texts))


@dataclass
class EncodedCorpus:
    """Token ids and word ids of every text (the word id of [CLS]/[SEP] is -1)."""

    input_ids: list[list[int]]
    word_ids: list[list[int]]


def encode_corpus(
    texts: Sequence[str], tokenizer, lexicon: Iterable[str], max_length: int = 384
) -> EncodedCorpus:
    """Tokenize and align tokens with :func:`segment`'s words (by character offsets)."""
    lex = set(lexicon)
    enc = tokenizer(list(texts), truncation=True, max_length=max_length,
                    return_offsets_mapping=True)  # fmt: skip
    word_ids: list[list[int]] = []
    for text, offsets in zip(texts, enc["offset_mapping"], strict=True):
        spans = segment(text, lex)
        starts = np.array([s for s, _ in spans])
        ids = []
        for start, end in offsets:
            if end <= start:  # special token
                ids.append(-1)
            else:
                ids.append(int(np.searchsorted(starts, start, side="right") - 1))
        word_ids.append(ids)
    return EncodedCorpus(input_ids=[list(x) for x in enc["input_ids"]], word_ids=word_ids)


def similar_token_table(
    corpus: EncodedCorpus, special_ids: Iterable[int], k: int = 5, min_similarity: float = 0.5
) -> dict[int, list[int]]:
    """For each corpus token, the ``k`` tokens that share its contexts most (cosine >= floor).

    A token's context vector counts its left neighbours and, separately, its right neighbours
    over the corpus (a distributional similarity, as word2vec's).
    """
    special = {int(i) for i in special_ids}
    tokens = sorted({t for ids in corpus.input_ids for t in ids if t not in special})
    index = {t: i for i, t in enumerate(tokens)}
    ctx_tokens = sorted({t for ids in corpus.input_ids for t in ids})
    cidx = {t: i for i, t in enumerate(ctx_tokens)}
    n_ctx = len(ctx_tokens)
    vec = np.zeros((len(tokens), 2 * n_ctx), dtype=np.float64)
    for ids in corpus.input_ids:
        for j in range(1, len(ids) - 1):
            t = ids[j]
            if t in special:
                continue
            vec[index[t], cidx[ids[j - 1]]] += 1.0
            vec[index[t], n_ctx + cidx[ids[j + 1]]] += 1.0
    norm = np.linalg.norm(vec, axis=1, keepdims=True)
    unit = vec / np.maximum(norm, 1e-12)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -1.0)
    table: dict[int, list[int]] = {}
    for i, t in enumerate(tokens):
        order = np.argsort(-sim[i])[:k]
        table[t] = [tokens[j] for j in order if sim[i, j] >= min_similarity]
    return table


def mask_for_correction(
    input_ids: Sequence[int],
    word_ids: Sequence[int],
    similar: dict[int, list[int]],
    random_pool: Sequence[int],
    rng: np.random.Generator,
    mask_rate: float = MASK_RATE,
) -> tuple[list[int], list[int]]:
    """MacBERT's corruption of one tokenized text.

    Whole words are selected in spans of 1-4 words (:data:`NGRAM_PROBS`) until about
    ``mask_rate`` of the tokens are selected. Each selected word is replaced as a unit:
    with 80% its tokens become similar tokens (a random one where a token has none),
    10% random tokens, 10% unchanged.

    Returns:
        (corrupted ids, labels): labels hold the original id at selected positions and -100
        elsewhere. No [MASK] token is ever written.
    """
    ids = list(input_ids)
    labels = [-100] * len(ids)
    words: dict[int, list[int]] = {}
    for pos, w in enumerate(word_ids):
        if w >= 0:
            words.setdefault(w, []).append(pos)
    order = sorted(words)
    n_tokens = sum(len(v) for v in words.values())
    if not n_tokens:
        return ids, labels
    target = max(1, round(n_tokens * mask_rate))
    chosen: set[int] = set()
    selected = 0
    starts = rng.permutation(len(order))
    for s in starts:
        if selected >= target:
            break
        n = int(rng.choice(len(NGRAM_PROBS), p=NGRAM_PROBS)) + 1
        span = [order[j] for j in range(s, min(s + n, len(order))) if order[j] not in chosen]
        for w in span:
            if selected >= target:
                break
            chosen.add(w)
            selected += len(words[w])
    for w in chosen:
        r = rng.random()
        for pos in words[w]:
            original = ids[pos]
            labels[pos] = original
            if r < REPLACE_SIMILAR:
                candidates = similar.get(original) or random_pool
                ids[pos] = int(candidates[int(rng.integers(len(candidates)))])
            elif r < REPLACE_SIMILAR + REPLACE_RANDOM:
                ids[pos] = int(random_pool[int(rng.integers(len(random_pool)))])
    return ids, labels


def correction_loss(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    labels: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Cross-entropy of ``BertForMaskedLM``'s head at the selected positions only.

    The same loss as ``model(..., labels=labels).loss``; the vocabulary projection (7,553 logits
    per token, most of a step's cost) runs on the ~15% selected positions, not on every token.
    """
    hidden = model.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    keep = labels != -100
    logits = model.cls(hidden[keep])
    return torch.nn.functional.cross_entropy(logits, labels[keep])


@dataclass
class PretrainResult:
    out: Path
    losses: list[float]
    seconds: float
    record: dict[str, Any]


def pretrain(
    texts: Sequence[str],
    out: str | Path,
    *,
    steps: int = 1000,
    batch_size: int = 16,
    lr: float = 5e-4,
    warmup_steps: int = 50,
    weight_decay: float = 0.01,
    seed: int = 0,
    max_length: int = 384,
    bert_overrides: dict[str, Any] | None = None,
    similar_k: int = 5,
    min_similarity: float = 0.5,
    num_threads: int | None = None,
    log_every: int = 50,
    extra_record: dict[str, Any] | None = None,
) -> PretrainResult:
    """Pre-train the offline small BERT with MLM-as-correction and save it for ``--text-encoder``.

    Args:
        texts: the report corpus.
        out: folder for ``config.json``, ``model.safetensors``, the tokenizer files and
            ``pretrain.json`` (settings, similar-token examples, loss curve).
        steps: optimizer steps (AdamW, linear warm-up then linear decay).
        batch_size: texts per step.
        bert_overrides: BertConfig fields changed from the segmenter's small default.

    Returns:
        :class:`PretrainResult` (per-step losses).
    """
    from transformers import BertConfig, BertForMaskedLM

    from boneread_ml.models.text_encoder import SMALL_BERT
    from boneread_ml.models.tokenizer import build_tokenizer

    if not texts:
        raise ValueError("empty corpus")
    if num_threads:
        torch.set_num_threads(int(num_threads))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tokenizer = build_tokenizer(out, model_max_length=max_length)
    lexicon = phantom_lexicon()
    corpus = encode_corpus(texts, tokenizer, lexicon, max_length)
    special_ids = tokenizer.convert_tokens_to_ids(list(SPECIAL))
    similar = similar_token_table(corpus, special_ids, k=similar_k, min_similarity=min_similarity)
    pool = sorted(similar)
    cfg = {**SMALL_BERT, **(bert_overrides or {}), "vocab_size": int(tokenizer.vocab_size)}
    model = BertForMaskedLM(BertConfig(**cfg))
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optim = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim,
        lambda s: (
            min(1.0, (s + 1) / max(1, warmup_steps))
            * max(0.0, (steps - s) / max(1, steps - warmup_steps))
        ),
    )
    pad = int(tokenizer.pad_token_id)
    losses: list[float] = []
    t0 = time.perf_counter()
    n = len(corpus.input_ids)
    for step in range(steps):
        batch = rng.choice(n, size=min(batch_size, n), replace=n < batch_size)
        pairs = [
            mask_for_correction(corpus.input_ids[i], corpus.word_ids[i], similar, pool, rng)
            for i in batch
        ]
        width = max(len(p[0]) for p in pairs)
        ids = torch.full((len(pairs), width), pad, dtype=torch.long)
        lab = torch.full((len(pairs), width), -100, dtype=torch.long)
        att = torch.zeros((len(pairs), width), dtype=torch.long)
        for r, (x, y) in enumerate(pairs):
            ids[r, : len(x)] = torch.tensor(x)
            lab[r, : len(y)] = torch.tensor(y)
            att[r, : len(x)] = 1
        loss = correction_loss(model, ids, att, lab)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log_every and (step + 1) % log_every == 0:
            logger.info("pretrain step %d/%d: loss %.4f (mean of last %d %.4f)", step + 1, steps,
                        losses[-1], log_every, float(np.mean(losses[-log_every:])))  # fmt: skip
    seconds = time.perf_counter() - t0
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    inv = tokenizer.convert_ids_to_tokens
    examples = {}
    for ch in ("左", "右", "胸", "腰", "转", "退", "5", "肋"):
        tid = tokenizer.convert_tokens_to_ids(ch)
        if tid in similar:
            examples[ch] = inv(similar[tid])
    window = max(1, min(50, steps // 10))
    record = {
        "objective": "MLM as correction (MacBERT): whole-word 1-4-gram selection of 15% of "
        "tokens; 80% similar token, 10% random corpus token, 10% unchanged; no [MASK]",
        "texts": n,
        "tokens": int(sum(len(x) for x in corpus.input_ids)),
        "lexicon_words": len(lexicon),
        "tokens_with_similar": int(sum(1 for v in similar.values() if v)),
        "corpus_tokens": len(pool),
        "similar_examples": examples,
        "steps": steps, "batch_size": batch_size, "lr": lr, "warmup_steps": warmup_steps,
        "weight_decay": weight_decay, "seed": seed, "max_length": max_length,
        "similar_k": similar_k, "min_similarity": min_similarity, "bert_config": cfg,
        "loss_first": float(np.mean(losses[:window])), "loss_last": float(np.mean(losses[-window:])),
        "seconds": round(seconds, 1),
        "losses_every_10": [round(v, 4) for v in losses[::10]],
        **(extra_record or {}),
    }  # fmt: skip
    (out / "pretrain.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), "utf-8")
    logger.info("pretrained %d steps in %.0f s: loss %.3f -> %.3f; saved to %s", steps, seconds,
                record["loss_first"], record["loss_last"], out)  # fmt: skip
    if not math.isfinite(losses[-1]):
        raise RuntimeError("pre-training diverged (non-finite loss)")
    return PretrainResult(out=out, losses=losses, seconds=seconds, record=record)
