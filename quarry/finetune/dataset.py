"""Verified traces -> token ids with an assistant-only loss mask, split by template and packed.

Rendering goes through the student's own chat format (the one renderer serving uses), so the model
learns exactly the text it will see. The mask is built from conversation prefixes: the text rendered
up to an assistant turn (with the generation prompt) versus up to the end of that turn; the
difference is what the model must produce, and only those tokens carry loss. Each segment is
tokenized on its own, which matches serving, where the prompt is tokenized and the reply generated.

System prompt choice: the short student prompt replaces the trace's system message. It is taken
from `DatasetConfig.system_prompt` if given, else from each trace's `metadata.student_system_prompt`
(the trace generator writes it there, rendered for that trace's date), else the trace's own system
message is kept. Tool specs likewise: `metadata.student_tools` (the compact specs the student profile
is served with) replaces the teacher's full specs when present. Nothing here imports the agent package.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from quarry.errors import InputError, TrainingError
from quarry.llm.tokens import shared_length
from quarry.store.traces import TraceMetadata

IGNORE = -100


class Renderer(Protocol):
    """What the dataset needs from a chat format (quarry.llm.chat_format.ChatFormat provides it)."""

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
               add_generation_prompt: bool = False) -> str: ...

    def pieces(self, text: str) -> list[tuple[str, bool]]: ...


class TokenizerLike(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ..., split_special_tokens: bool = ...) -> list[int]: ...


class DatasetConfig(BaseModel):
    """How traces become training examples; stored in the run's config.json."""

    traces: list[Path]
    system_prompt: str | None = None
    eval_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    eval_templates: list[str] | None = None
    seed: int = 0
    max_tokens: int = 2048
    include_tools: bool = True


@dataclass
class Example:
    """One rendered conversation: ids plus next-token targets (IGNORE outside assistant spans)."""

    trace_id: str
    template: str
    input_ids: list[int]
    mask: list[int]
    #: Names of the tools the rendered prompt offered (the served model is offered the same ones).
    tools: tuple[str, ...] = ()

    @property
    def targets(self) -> list[int]:
        """Target for position i is token i+1 when that token is an assistant token."""
        shifted = self.input_ids[1:] + [IGNORE]
        trained = self.mask[1:] + [0]
        return [tok if keep else IGNORE for tok, keep in zip(shifted, trained)]


#: Segment id of a row's shared prefix: every segment after it attends to it.
SHARED = -1
#: A prefix is shared within a row only when it saves at least this many tokens per example.
MIN_SHARED_PREFIX = 64


@dataclass
class PackedBatch:
    """Several examples in one row, each a segment that attends only to itself and the shared prefix.

    Traces of one store share a long token prefix (student system prompt, schema, tool specs), so a
    row holds that prefix once, then the rest of each example; positions continue after the prefix as
    if each example were alone. This is exact: under causal attention the prefix's hidden states are
    the same for every example, and the loss is the same sum. `objective.attention_masks` turns the
    segment ids into the block mask; no token is padding.
    """

    input_ids: list[int] = field(default_factory=list)
    position_ids: list[int] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)
    #: Tokens of the examples as they would be unpacked (the shared prefix counted once per example).
    example_tokens: int = 0
    segments: int = 0

    def share(self, prefix: list[int]) -> None:
        """Open the row with a prefix the later segments attend to (it carries no targets)."""
        self.input_ids += prefix
        self.position_ids += list(range(len(prefix)))
        self.targets += [IGNORE] * len(prefix)
        self.segment_ids += [SHARED] * len(prefix)

    def add(self, example: Example, start: int = 0) -> None:
        """Append the example from token `start` on (after a shared prefix of that length) as a segment."""
        self.input_ids += example.input_ids[start:]
        self.position_ids += list(range(start, len(example.input_ids)))
        self.targets += example.targets[start:]
        self.segment_ids += [self.segments] * (len(example.input_ids) - start)
        self.segments += 1
        self.example_tokens += len(example.input_ids)

    @property
    def n_target(self) -> int:
        return sum(t != IGNORE for t in self.targets)


@dataclass
class Dataset:
    train: list[Example]
    eval: list[Example]
    data_hash: str
    train_templates: list[str]
    eval_templates: list[str]
    dropped_too_long: int = 0

    def stats(self) -> dict[str, Any]:
        def tokens(examples: list[Example]) -> int:
            return sum(len(e.input_ids) for e in examples)

        return {
            "train_examples": len(self.train), "eval_examples": len(self.eval),
            "train_tokens": tokens(self.train), "eval_tokens": tokens(self.eval),
            "train_templates": self.train_templates, "eval_templates": self.eval_templates,
            "dropped_too_long": self.dropped_too_long, "data_hash": self.data_hash,
            "tools": sorted({name for e in self.train for name in e.tools}),
        }


def numbered_lines(path: Path, what: str) -> list[tuple[int, str]]:
    """The non-blank lines of a JSONL file with their line numbers, for errors that name file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    return [(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def read_traces(path: Path) -> list[dict[str, Any]]:
    """Verified trace records from a JSONL file; a bad line is an error naming file and line."""
    records = []
    for number, line in numbered_lines(path, "traces"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            raise InputError(f"{path}:{number}: a trace needs a 'messages' list")
        if not any(m.get("role") == "assistant" for m in record["messages"]):
            raise InputError(f"{path}:{number}: trace has no assistant message to learn from")
        if record_metadata(record).verified is False:
            continue
        records.append(record)
    return records


def record_metadata(record: dict[str, Any]) -> TraceMetadata:
    """The typed metadata of one training record (the shape `quarry traces export` writes)."""
    try:
        return TraceMetadata.model_validate(record.get("metadata") or {})
    except ValidationError as exc:
        raise InputError(f"trace {record.get('metadata', {}).get('trace_id', '?')}: bad metadata: {exc}") from exc


def student_messages(record: dict[str, Any], metadata: TraceMetadata,
                     system_prompt: str | None) -> list[dict[str, Any]]:
    """The trace's conversation with the student system prompt in place of the teacher's."""
    prompt = system_prompt or metadata.student_system_prompt
    messages = [dict(m) for m in record["messages"]]
    if prompt is None:
        return messages
    if messages and messages[0].get("role") == "system":
        messages = messages[1:]
    return [{"role": "system", "content": prompt}, *messages]


def student_tools(record: dict[str, Any], metadata: TraceMetadata) -> list[dict[str, Any]] | None:
    """The compact tool specs the student is served with (`metadata.student_tools`), else the trace's own."""
    return metadata.student_tools or record.get("tools")


def segments(renderer: Renderer, messages: list[dict[str, Any]],
             tools: list[dict[str, Any]] | None) -> list[tuple[str, bool]]:
    """The rendered conversation cut into (text, is_assistant) pieces that join to the full render."""
    full = renderer.render(messages, tools=tools, add_generation_prompt=False)
    pieces: list[tuple[str, bool]] = []
    done = 0
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        before = renderer.render(messages[:i], tools=tools, add_generation_prompt=True)
        after = renderer.render(messages[: i + 1], tools=tools, add_generation_prompt=False)
        if not after.startswith(before) or not full.startswith(after) or len(before) < done:
            raise TrainingError(
                f"chat template does not render assistant turn {i} as an extension of its prefix; "
                "cannot build a loss mask"
            )
        reply = after[len(before):]
        # Whitespace after the end-of-turn token is written by the template, never generated.
        trained = reply.rstrip()
        pieces += [(before[done:], False), (trained, True), (reply[len(trained):], False)]
        done = len(after)
    pieces.append((full[done:], False))
    return [(text, trained) for text, trained in pieces if text]


def tokenize_record(record: dict[str, Any], renderer: Renderer, tokenizer: TokenizerLike,
                    config: DatasetConfig) -> Example:
    """One trace -> ids and mask; every assistant span (tool calls and final answer) is trained."""
    metadata = record_metadata(record)
    messages = student_messages(record, metadata, config.system_prompt)
    tools = student_tools(record, metadata) if config.include_tools else None
    ids: list[int] = []
    mask: list[int] = []
    for text, trained in segments(renderer, messages, tools or None):
        for piece, special in renderer.pieces(text):
            tokens = tokenizer.encode(piece, add_special_tokens=False, split_special_tokens=not special)
            ids += tokens
            mask += [int(trained)] * len(tokens)
    names = tuple(spec.get("function", spec).get("name", "") for spec in tools or [])
    return Example(metadata.trace_id or "", metadata.template or "", ids, mask, names)


def split_templates(templates: list[str], config: DatasetConfig) -> tuple[list[str], list[str]]:
    """Choose whole templates for eval so eval questions are unseen in form."""
    unique = sorted(set(templates))
    if config.eval_templates is not None:
        unknown = set(config.eval_templates) - set(unique)
        if unknown:
            raise InputError(f"eval templates not in the traces: {', '.join(sorted(unknown))}")
        held = sorted(config.eval_templates)
    elif config.eval_fraction == 0 or len(unique) < 2:
        held = []
    else:
        order = unique[:]
        random.Random(config.seed).shuffle(order)
        target = config.eval_fraction * len(templates)
        held, count = [], 0
        for name in order[:-1]:  # always leave at least one template to train on
            if count >= target:
                break
            held.append(name)
            count += templates.count(name)
    return [t for t in unique if t not in held], sorted(held)


def data_hash(paths: list[Path], config: DatasetConfig, template_sha256: str) -> str:
    """Identifies the training data: trace bytes, system prompt, split settings and chat template."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    settings = config.model_dump(mode="json", exclude={"traces"})
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(template_sha256.encode())
    return digest.hexdigest()[:16]


def build_dataset(config: DatasetConfig, renderer: Renderer, tokenizer: TokenizerLike,
                  template_sha256: str = "") -> Dataset:
    """Read, render, mask and split all traces named in the config."""
    records = [record for path in config.traces for record in read_traces(path)]
    if not records:
        raise InputError(f"no verified traces in {', '.join(map(str, config.traces))}")
    examples = [tokenize_record(record, renderer, tokenizer, config) for record in records]
    kept = [e for e in examples if len(e.input_ids) <= config.max_tokens]
    train_t, eval_t = split_templates([e.template for e in kept], config)
    held = set(eval_t)
    return Dataset(
        train=[e for e in kept if e.template not in held],
        eval=[e for e in kept if e.template in held],
        data_hash=data_hash(config.traces, config, template_sha256),
        train_templates=train_t, eval_templates=eval_t,
        dropped_too_long=len(examples) - len(kept),
    )


def _shareable(example: Example) -> int:
    """How many leading tokens may be shared: up to (not including) the position that predicts the
    first trained token, since a shared position cannot carry one example's target."""
    first = example.mask.index(1) if 1 in example.mask else len(example.input_ids)
    return max(0, min(first - 1, len(example.input_ids) - 1))


def prefix_groups(examples: list[Example]) -> list[tuple[int, list[Example]]]:
    """Examples grouped by a shared token prefix of at least MIN_SHARED_PREFIX tokens: (length, group).

    Sorted by tokens, examples with a common prefix are neighbours; a group grows while the prefix
    all its members share stays long enough. Examples that share nothing come back with length 0.
    """
    groups: list[tuple[int, list[Example]]] = []
    for example in sorted(examples, key=lambda e: e.input_ids):
        if groups:
            shared, members = groups[-1]
            length = min(shared, shared_length(members[0].input_ids, example.input_ids), _shareable(example))
            if length >= MIN_SHARED_PREFIX:
                groups[-1] = (length, [*members, example])
                continue
        groups.append((_shareable(example), [example]))
    loose = [e for length, members in groups if len(members) == 1 or length < MIN_SHARED_PREFIX for e in members]
    shared = [(length, members) for length, members in groups if len(members) > 1 and length >= MIN_SHARED_PREFIX]
    return shared + ([(0, loose)] if loose else [])


def _fill(examples: list[Example], prefix: int, batch_tokens: int) -> list[PackedBatch]:
    """First-fit-decreasing of the examples' rests into rows that each open with the shared prefix."""
    rows: list[PackedBatch] = []
    for example in sorted(examples, key=lambda e: len(e.input_ids), reverse=True):
        if len(example.input_ids) > batch_tokens:
            raise TrainingError(f"example {example.trace_id} has {len(example.input_ids)} tokens, "
                                f"more than --batch-tokens {batch_tokens}")
        rest = len(example.input_ids) - prefix
        row = next((r for r in rows if len(r.input_ids) + rest <= batch_tokens), None)
        if row is None:
            row = PackedBatch()
            if prefix:
                row.share(example.input_ids[:prefix])
            rows.append(row)
        row.add(example, prefix)
    return rows


def pack(examples: list[Example], batch_tokens: int, seed: int | None = None) -> list[PackedBatch]:
    """Rows of at most `batch_tokens`, shared prefixes held once per row; shuffled if seeded."""
    rows = [row for prefix, group in prefix_groups(examples) for row in _fill(group, prefix, batch_tokens)]
    if seed is not None:
        random.Random(seed).shuffle(rows)
    return rows


def pair_batch(chosen: Example, rejected: Example) -> PackedBatch:
    """A preference pair as one row: segment 0 the chosen conversation, 1 the rejected one, their common
    prefix (system prompt, tools, question, shared first steps) held once."""
    prefix = min(shared_length(chosen.input_ids, rejected.input_ids), _shareable(chosen), _shareable(rejected))
    row = PackedBatch()
    if prefix >= MIN_SHARED_PREFIX:
        row.share(chosen.input_ids[:prefix])
    else:
        prefix = 0
    row.add(chosen, prefix)
    row.add(rejected, prefix)
    return row
