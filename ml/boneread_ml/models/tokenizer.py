"""Offline character vocabulary and tokenizer for Chinese diagnostic reports.

MacBERT (``hfl/chinese-macbert-base``) is a character-level Chinese BERT: every
CJK character is one token. Without hub access the project builds its own
vocabulary the same way: BERT's special tokens, digits, Latin letters (with
their ``##`` word-piece continuations so that numbers such as ``12`` and words
such as ``CT`` tokenize), and every character of GB2312 (which covers the
characters of radiology reports). The vocabulary is written to ``vocab.txt``
and loaded with :class:`transformers.BertTokenizerFast`, so the rest of the
code path is identical to loading real MacBERT with ``from_pretrained``.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path

from transformers import BertTokenizerFast

logger = logging.getLogger(__name__)

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def gb2312_characters() -> list[str]:
    """Every character GB2312 encodes, in code-point order.

    GB2312 is EUC-encoded as two bytes in 0xA1..0xFE (rows 1-9 symbols and
    full-width forms, rows 16-87 hanzi). Unassigned code points are skipped.

    Returns:
        The decoded characters, each once.
    """
    chars: list[str] = []
    seen: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                ch = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if ch not in seen and not ch.isspace():
                seen.add(ch)
                chars.append(ch)
    return chars


def build_vocab() -> list[str]:
    """The project's character vocabulary (about 7,500 tokens).

    Returns:
        Tokens in id order: special tokens first, then ASCII digits, letters
        and punctuation, their ``##`` continuations, then GB2312 characters.
    """
    ascii_tokens = list(string.digits + string.ascii_lowercase + string.punctuation)
    vocab: list[str] = list(SPECIAL_TOKENS)
    vocab += ascii_tokens
    vocab += ["##" + t for t in string.digits + string.ascii_lowercase]
    seen = set(vocab)
    for ch in gb2312_characters():
        # BertTokenizer lower-cases, so upper-case full-width Latin letters are
        # still kept: they are distinct code points from the ASCII ones.
        if ch not in seen:
            seen.add(ch)
            vocab.append(ch)
    return vocab


def write_vocab(directory: str | Path) -> Path:
    """Write ``vocab.txt`` (one token per line) into ``directory``.

    Args:
        directory: folder to create or reuse.

    Returns:
        Path of the vocabulary file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "vocab.txt"
    path.write_text("\n".join(build_vocab()) + "\n", encoding="utf-8")
    return path


def build_tokenizer(directory: str | Path, model_max_length: int = 256) -> BertTokenizerFast:
    """Build the offline character tokenizer and save it into ``directory``.

    Args:
        directory: folder that receives ``vocab.txt`` and the tokenizer files.
        model_max_length: longest token sequence (reports are truncated).

    Returns:
        A :class:`BertTokenizerFast` equivalent to MacBERT's tokenizer in
        behaviour (character-level CJK, lower-cased Latin, word pieces).
    """
    vocab_path = write_vocab(directory)
    vocab = {token: i for i, token in enumerate(vocab_path.read_text("utf-8").splitlines())}
    # transformers >= 5 takes the vocabulary itself (``vocab``); 4.x took ``vocab_file``.
    tokenizer = BertTokenizerFast(
        vocab=vocab,
        do_lower_case=True,
        tokenize_chinese_chars=True,
        model_max_length=model_max_length,
    )
    tokenizer.save_pretrained(str(directory))
    logger.info("built character tokenizer: %d tokens in %s", tokenizer.vocab_size, directory)
    return tokenizer


def load_tokenizer(directory: str | Path) -> BertTokenizerFast:
    """Load a tokenizer saved with ``save_pretrained`` (ours or MacBERT's).

    Args:
        directory: local folder with ``vocab.txt`` / ``tokenizer.json``.

    Returns:
        The tokenizer.

    Raises:
        FileNotFoundError: when the folder has no tokenizer files.
    """
    directory = Path(directory)
    if not (directory / "vocab.txt").exists() and not (directory / "tokenizer.json").exists():
        raise FileNotFoundError(f"no tokenizer files (vocab.txt or tokenizer.json) in {directory}")
    return BertTokenizerFast.from_pretrained(str(directory), local_files_only=True)
