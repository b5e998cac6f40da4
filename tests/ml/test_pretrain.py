"""MacBERT-style pre-training of the report encoder (boneread_ml.models.pretrain)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from boneread_ml.models.pretrain import (
    SPECIAL,
    encode_corpus,
    mask_for_correction,
    phantom_lexicon,
    pretrain,
    report_corpus,
    segment,
    similar_token_table,
)
from boneread_ml.models.tokenizer import build_tokenizer

TEXTS = [
    "诊断意见：左侧第5肋骨代谢异常活跃，考虑骨转移。",
    "诊断意见：右侧第5肋骨代谢异常活跃，考虑骨转移。",
    "检查所见：第3腰椎见片状放射性浓聚，考虑退行性变。",
    "检查所见：第3胸椎见片状放射性浓聚，考虑骨转移。",
    "静脉注射99mTc-MDP 740MBq，3小时后行全身前、后位骨显像。",
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return build_tokenizer(tmp_path_factory.mktemp("tok"), model_max_length=128)


def _words(text):
    return [text[s:e] for s, e in segment(text, phantom_lexicon())]


def test_segmenter_uses_the_phantom_terms():
    assert _words("左侧第5肋骨代谢异常活跃，考虑骨转移。") == [
        "左侧", "第5肋", "骨代谢", "异常", "活跃", "，", "考虑", "骨转移", "。",
    ]  # fmt: skip
    assert _words("第3腰椎见片状") == ["第3腰椎", "见", "片状"]
    # ASCII runs are one word, whitespace is skipped
    assert _words("99mTc-MDP 740MBq") == ["99mTc", "-", "MDP", "740MBq"]


def test_similar_tokens_come_from_shared_contexts(tokenizer):
    corpus = encode_corpus(TEXTS, tokenizer, phantom_lexicon())
    special = tokenizer.convert_tokens_to_ids(list(SPECIAL))
    table = similar_token_table(corpus, special, k=3, min_similarity=0.5)
    tid = tokenizer.convert_tokens_to_ids
    # 左 and 右 occur between the same neighbours ("：_侧"), so do 胸 and 腰 ("3_椎")
    assert tid("右") in table[tid("左")]
    assert tid("胸") in table[tid("腰")]
    # a token never seen in the same context has no similar token above the floor
    assert tid("左") not in table[tid("转")]


def _mask_many(tokenizer, n=200, seed=0):
    corpus = encode_corpus(TEXTS * 4, tokenizer, phantom_lexicon())
    special = tokenizer.convert_tokens_to_ids(list(SPECIAL))
    table = similar_token_table(corpus, special, k=3, min_similarity=0.5)
    pool = sorted(table)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        j = i % len(corpus.input_ids)
        ids, labels = mask_for_correction(corpus.input_ids[j], corpus.word_ids[j], table, pool, rng)
        out.append((corpus.input_ids[j], corpus.word_ids[j], ids, labels))
    return out, table


def test_correction_masking_never_writes_mask_and_selects_about_15_percent(tokenizer):
    masked, table = _mask_many(tokenizer)
    mask_id = tokenizer.convert_tokens_to_ids("[MASK]")
    selected = total = changed = similar_hits = with_similar = 0
    for original, word_ids, ids, labels in masked:
        assert mask_id not in ids
        assert len(ids) == len(original) == len(labels)
        for pos, (o, x, y) in enumerate(zip(original, ids, labels, strict=True)):
            if word_ids[pos] < 0:  # [CLS]/[SEP] never selected or changed
                assert y == -100 and x == o
                continue
            total += 1
            if y == -100:
                assert x == o  # unselected tokens are untouched
            else:
                assert y == o  # the label is the original token
                selected += 1
                changed += x != o
                if table.get(o):
                    with_similar += 1
                    similar_hits += x in table[o]
    rate = selected / total
    assert 0.12 <= rate <= 0.25, rate  # whole words overshoot 15% a little
    # 90% of the selected words are replaced (80% similar + 10% random; a random or similar
    # token can equal the original), and where a token has similar tokens, 80% get one
    assert 0.75 <= changed / selected <= 0.97
    assert with_similar > 100 and 0.68 <= similar_hits / with_similar <= 0.92


def test_whole_words_are_selected_and_replaced_together(tokenizer):
    masked, _ = _mask_many(tokenizer, n=300, seed=1)
    multi_token_words = 0
    for _original, word_ids, _ids, labels in masked:
        by_word = {}
        for pos, w in enumerate(word_ids):
            if w >= 0:
                by_word.setdefault(w, []).append(pos)
        for positions in by_word.values():
            flags = {labels[p] != -100 for p in positions}
            assert len(flags) == 1, "a word was partly selected"
            if len(positions) > 1 and labels[positions[0]] != -100:
                multi_token_words += 1
    assert multi_token_words > 20  # multi-character words (骨转移, 第5肋...) were selected


def test_report_corpus_never_reads_the_held_out_fold(planar_set):
    from boneread_ml.data.datasets import read_manifest

    cases = read_manifest(planar_set)["cases"]
    fold = int(cases[0]["fold"])
    texts = report_corpus(planar_set, exclude_folds=[fold], rewrite_informativeness=[1.0])
    held_out = {c["report"]["text"] for c in cases if int(c["fold"]) == fold}
    kept = {c["report"]["text"] for c in cases if int(c["fold"]) != fold}
    assert kept <= set(texts)
    assert not (held_out - kept) & set(texts)


def test_pretraining_lowers_the_loss_and_loads_through_the_text_encoder_route(tmp_path):
    from boneread_ml.models.registry import build_model
    from boneread_ml.models.text_encoder import ReportEncoder
    from boneread_ml.models.tokenizer import load_tokenizer
    from boneread_ml.training.run import make_tokenizer

    torch.set_num_threads(1)
    out = tmp_path / "bert"
    small = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 64}  # fmt: skip
    result = pretrain(TEXTS * 3, out, steps=120, batch_size=8, lr=3e-3, warmup_steps=10, seed=0,
                      max_length=64, bert_overrides=small, log_every=0)  # fmt: skip
    first, last = np.mean(result.losses[:15]), np.mean(result.losses[-15:])
    assert last < 0.6 * first, (first, last)
    record = json.loads((out / "pretrain.json").read_text(encoding="utf-8"))
    assert record["steps"] == 120 and "右" in record["similar_examples"]["左"]
    # the --text-encoder route: tokenizer and encoder from the folder, the trained weights inside
    cfg = {"text": {"pretrained": str(out), "max_length": 64}}
    tok = make_tokenizer(cfg, tmp_path)
    assert tok.vocab_size == load_tokenizer(out).vocab_size
    encoder = ReportEncoder.from_pretrained(out)
    from transformers import BertForMaskedLM

    mlm = BertForMaskedLM.from_pretrained(str(out), local_files_only=True)
    for name, tensor in encoder.bert.state_dict().items():
        assert torch.equal(tensor, mlm.bert.state_dict()[name]), name
    model = build_model("mt_unet", text={"pretrained": str(out)}, input_size=(64, 64))
    assert model.text_encoder.hidden_size == 32


def test_correction_loss_equals_the_full_mlm_loss():
    from transformers import BertConfig, BertForMaskedLM

    from boneread_ml.models.pretrain import correction_loss

    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=32)).eval()  # fmt: skip
    ids = torch.randint(5, 50, (3, 9))
    att = torch.ones_like(ids)
    att[2, 6:] = 0
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[1, 4], labels[2, 1] = 7, 9, 11
    full = model(input_ids=ids, attention_mask=att, labels=labels).loss
    torch.testing.assert_close(correction_loss(model, ids, att, labels), full)
