"""Records of one shape read a batch at a time, column by column.

Reading a record by its shape (`Shape.read`) costs a few Python steps per scalar: most of a
cold scan's time. A batch of records of one shape (a few hundred) is read instead one slot
at a time, across the batch: each slot's texts typed together (`columns.column`: a few
steps in C per column), each slot's schema checks run over its column
(`slotschema.SlotChecks.bad_rows`), then each record's JSON made from the shape's
template, where the slots that hold one text in the whole batch are filled in once.

A shape whose batches keep some slots at one text (the author, the environment, the
command...) gets a matcher with those texts fixed (`Shape.fix`): matching it captures only
the other slots, and its fixed slots are typed and checked once.

The answer is `Shape.read`'s: a record is rendered only when each of its texts is typed as
`Shape.read` types it and its values pass the same checks; any other record (a text the
columns leave to fastyaml, an invalid record) is handed back, for the per-record reader.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.read import columns
from ledger.read.shapes import Fixed, Shape

FIX_ROWS = 64  # a batch this large shows which texts a shape's records share
FIXES_MAX = 8  # fixed matchers compiled per shape


def read(shape: Shape, fixed: Fixed | None, groups: Sequence[Sequence[str]]) -> list[tuple[str, str] | None]:
    """`shape.read(texts, build=False).rendered` for each record of a batch (the texts that
    `fixed`, else `shape`, captured), where the record is valid; None where the batch cannot
    vouch for it."""
    rows = len(groups)
    count = len(shape.hints)
    by_slot: dict[int, columns.Column] = {}
    texts: list[Sequence[str]] = [()] * count
    if fixed is not None:
        by_slot.update(fixed.typed)
        for slot, text in fixed.texts.items():
            texts[slot] = (text,)
    hints = shape.hints
    bad: set[int] = set()
    for slot, column_texts in zip(fixed.slots if fixed is not None else range(count), zip(*groups)):
        column = columns.column(column_texts, hints[slot])
        hints[slot] = column.kind
        by_slot[slot] = column
        texts[slot] = column_texts
        bad.update(column.bad)
    typed = [by_slot[slot] for slot in range(count)]
    if fixed is None and rows >= FIX_ROWS:
        _fix(shape, typed, texts)
    if len(bad) < rows:
        if shape.rechecks_wanted():
            row = min(set(range(rows)) - bad)
            shape.recheck([column.values[0 if column.constant else row] for column in typed])
        bad |= shape.checks.bad_rows(typed, texts, rows)
    if len(bad) >= rows:
        return [None] * rows
    fulls = _render(shape.pieces, range(count), typed, rows)
    heads = _render(shape.head_pieces, shape.head_slots, typed, rows)
    if not bad:
        return list(zip(heads, fulls))
    return [None if row in bad else pair for row, pair in enumerate(zip(heads, fulls))]


def _fix(shape: Shape, typed: list[columns.Column], texts: list[Sequence[str]]) -> None:
    """Give `shape` a matcher with the slots fixed that held one (good) text in this batch,
    unless it has one with these already, or has had enough."""
    constant = {slot: column for slot, column in enumerate(typed) if column.constant and not column.bad}
    fixed = {slot: texts[slot][0] for slot in constant}
    if not fixed or shape.fixes >= FIXES_MAX or (shape.fixed is not None and shape.fixed.texts == fixed):
        return
    shape.fixed = shape.fix(fixed, constant)


def _render(pieces: tuple[str, ...], slots: Sequence[int], typed: list[columns.Column], rows: int) -> list[str]:
    """The JSON of each row from a template's pieces (the text between its slots), the
    slots' columns filled in: constant ones once, into the template's text, the others
    into one list of every row's parts (a slice each, in C), joined and split at the line
    breaks put between rows (JSON text holds none)."""
    texts = [pieces[0]]
    varying = []
    for slot, piece in zip(slots, pieces[1:]):
        column = typed[slot]
        if column.constant:
            texts[-1] += column.jsons[0] + piece
        else:
            varying.append(column.jsons)
            texts.append(piece)
    texts[-1] += "\n"
    width = len(texts) + len(varying)
    parts: list[str] = [""] * (width * rows)
    for k, text in enumerate(texts):
        parts[2 * k :: width] = [text] * rows
    for k, jsons in enumerate(varying):
        parts[2 * k + 1 :: width] = jsons
    lines = "".join(parts).split("\n")
    lines.pop()  # after the last row's break
    return lines
