"""Label sets: create, import labelled examples from a table or file, add typed examples, delete; the
demo sets; which set a request means when it names none."""

from __future__ import annotations

import math
from pathlib import Path

from engine.classify.base import ClassifyError, Examples, check_texts
from engine.classify.sources import open_source, read
from engine.store.labels import LabelSet

MAX_LABELS = 200
DEMO_CREDIT = Path(__file__).resolve().parents[2] / "demo" / "classify" / "credit-applications.csv"
DEMO_SETS = [  # (set, ingested table or a demo file, text column, features, label column)
    ("reviews", "t_reviews", "text", None, "sentiment"),
    ("tickets", "t_support_tickets", "text", None, "intent"),
    ("credit", DEMO_CREDIT, None,
     ["age", "income", "debt_ratio", "employment_years", "past_defaults", "region", "loan_amount"], "outcome"),
]


def create_demo(ws) -> list[tuple[str, bool, str]]:
    """Creates the demo label sets from the ingested demo tables and the demo file, skipping existing ones;
    gives (set, created, what happened) per set."""
    out = []
    for name, table, text_column, features, label_column in DEMO_SETS:
        if ws.store.label_set(name) is not None:
            out.append((name, False, f"label set '{name}' exists"))
            continue
        file = table if isinstance(table, Path) else None
        if file is None and not ws.store.table_exists(table):
            out.append((name, False, f"skipped '{name}': no table {table} (ingest demo/docs first)"))
            continue
        if file is not None and not file.exists():
            out.append((name, False, f"skipped '{name}': no file {file}"))
            continue
        found, added, _ = import_examples(ws, name, label_column, None if file else table, file, text_column,
                                          features)
        out.append((name, True, f"label set '{name}': {added} examples, labels {', '.join(found.labels)}"))
    return out


def only_name(ws) -> str:
    """Gives the workspace's one label set, for a request that names none; several or none is an error."""
    names = ws.store.label_set_names()
    if len(names) == 1:
        return names[0]
    if not names:
        raise ClassifyError("no label sets yet; create one with `quarry labels create` or `quarry labels import`")
    raise ClassifyError(f"give --label-set: one of {', '.join(names[:12])}")


def get(ws, name: str) -> LabelSet:
    found = ws.store.label_set(name)
    if found is None:
        names = ws.store.label_set_names()
        hint = f"; label sets: {', '.join(names[:12])}" if names else ""
        raise ClassifyError(f"no label set '{name}'{hint} (create one with `quarry labels create`)")
    return found


def create(ws, name: str, labels: list[tuple[str, str]], kind: str = "text",
           features: list[str] | None = None) -> LabelSet:
    """Creates a label set with labels (name, description); gives it."""
    name = name.strip()
    if not name:
        raise ClassifyError("a label set needs a name")
    if ws.store.label_set(name) is not None:
        raise ClassifyError(f"label set '{name}' already exists; pick another name or `quarry labels delete {name}`")
    cleaned = _clean_labels(labels)
    ws.store.create_label_set(name, cleaned, kind, features)
    return get(ws, name)


def _clean_labels(labels: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for label, description in labels:
        label = str(label).strip()
        if not label:
            raise ClassifyError("a label name is blank; give every label a name")
        if "\n" in label or len(label) > 80:
            raise ClassifyError(f"label '{label[:40]}…' is too long; keep label names to one short line")
        seen.setdefault(label, (description or "").strip())
    if len(seen) > MAX_LABELS:
        raise ClassifyError(f"{len(seen)} labels; at most {MAX_LABELS} per label set")
    return list(seen.items())


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip()


def import_examples(ws, name: str, label_column: str, table: str | None = None, file: Path | None = None,
                    text_column: str | None = None, features: list[str] | None = None,
                    skip_unlabelled: bool = False) -> tuple[LabelSet, int, dict[str, int]]:
    """Imports labelled rows into a label set (created if new; its labels grow with the data).

    Text sets take `text_column`; tabular sets take `features` (column names, or ["*"] for every column but
    the label). A blank label is an error, unless `skip_unlabelled` (a least-sure export filled in part):
    then blank rows, and text rows that are already examples with the same label (the part imported
    before), are left out. Gives the set, how many examples were added, and how many rows were left out
    ({"unlabelled": n, "already": m})."""
    source = open_source(ws, table, file)
    if bool(text_column) == bool(features):
        raise ClassifyError("give either --text-column C (text examples) or --features a,b,c (table rows)")
    star = features == ["*"]
    if star:
        features = [c for c in source.columns if c != label_column]
    source.require(label_column, text_column, *(features or []))
    existing = ws.store.label_set(name)
    kind = "tabular" if features else "text"
    if existing is not None and existing.kind != kind:
        raise ClassifyError(f"label set '{name}' holds {existing.kind} examples; import {existing.kind} rows"
                            " into it or use another name")
    if existing is not None and kind == "tabular" and existing.features != features:
        raise ClassifyError(f"label set '{name}' uses the features {', '.join(existing.features)}; import the"
                            " same columns")
    columns = [label_column] + ([text_column] if text_column else list(features))
    rows = read(ws, source, columns)
    if not rows:
        raise ClassifyError(f"{source.name} has no rows")
    blanks = [i + 1 for i, row in enumerate(rows) if _blank(row[0])]
    skipped = {"unlabelled": 0, "already": 0}
    if blanks and skip_unlabelled and len(blanks) < len(rows):
        skipped["unlabelled"] = len(blanks)
        rows = [row for row in rows if not _blank(row[0])]
    elif blanks:
        everything = " (every row)" if len(blanks) == len(rows) else ""
        raise ClassifyError(f"the label column '{label_column}' of {source.name} is blank in {len(blanks)} rows"
                            f"{everything} (first: row {blanks[0]}); fill or drop those rows, then import again"
                            + ("" if everything or skip_unlabelled else
                               ", or give --skip-unlabelled to import only the labelled ones"))
    examples: list[tuple[str | None, dict | None, str]] = []
    if text_column:
        empty = [i + 1 for i, row in enumerate(rows) if _blank(row[1])]
        if len(empty) == len(rows):
            raise ClassifyError(f"the text column '{text_column}' of {source.name} is empty in every row; "
                                "pick the column that holds the text")
        examples = [(str(row[1]), None, str(row[0]).strip()) for row in rows if not _blank(row[1])]
        check_texts([t for t, _, _ in examples])
        if skip_unlabelled and existing is not None:
            have = {(t, lab) for t, _, lab in ws.store.examples(existing.id)}
            kept = [e for e in examples if (e[0], e[2]) not in have]
            skipped["already"] = len(examples) - len(kept)
            examples = kept
    else:
        if star:  # every column but the label: leave out ids (a distinct text in every row)
            keep = [i for i, f in enumerate(features) if not _is_id([row[i + 1] for row in rows])]
            features = [features[i] for i in keep]
            rows = [(row[0], *(row[i + 1] for i in keep)) for row in rows]
        examples = [(None, {f: _plain(v) for f, v in zip(features, row[1:])}, str(row[0]).strip()) for row in rows]
    labels = list(dict.fromkeys(label for _, _, label in examples))
    if existing is None:
        create(ws, name, [(label, "") for label in labels], kind, features)
    else:
        ws.store.add_labels(existing.id, _clean_labels([(label, "") for label in labels]))
    found = get(ws, name)
    ws.store.add_examples(found.id, examples, source.name)
    return get(ws, name), len(examples), skipped


def _is_id(values: list) -> bool:
    texts = [v for v in values if isinstance(v, str)]
    return len(texts) == len(values) and len(set(texts)) == len(texts) and len(texts) > 20


def _plain(value):
    """Gives a JSON-safe value for a feature cell (dates and decimals as text or float)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def add_example(ws, name: str, text: str, label: str, new_label: bool = False) -> LabelSet:
    """Adds one typed example; a label the set does not have is refused (a typo must not become a label)
    unless `new_label` says to add it."""
    found = get(ws, name)
    if found.kind != "text":
        raise ClassifyError(f"label set '{name}' holds table rows; import rows with `quarry labels import`")
    text = check_texts([text])[0]
    label = _clean_labels([(label, "")])[0][0]
    if label not in found.labels:
        if not new_label:
            raise ClassifyError(unknown_label_message(found, label))
        ws.store.add_labels(found.id, [(label, "")])
    ws.store.add_examples(found.id, [(text, None, label)], "typed")
    return get(ws, name)


def unknown_label_message(found: LabelSet, label: str) -> str:
    """Gives the one line for a label the set does not have: its labels, the closest one, how to add it."""
    import difflib

    close = difflib.get_close_matches(label, found.labels, n=1, cutoff=0.0)
    closest = f"; the closest is '{close[0]}'" if close else ""
    shown = ", ".join(found.labels[:20]) + (" …" if len(found.labels) > 20 else "")
    return (f"'{found.name}' has no label '{label}' (its labels: {shown}){closest}; "
            "to add it as a new label, give --new-label (in the app: type it as +label)")


def delete(ws, name: str) -> None:
    found = get(ws, name)
    for path in ws.store.delete_label_set(found.id):
        Path(path).unlink(missing_ok=True)


def examples(ws, found: LabelSet) -> Examples:
    """Gives a label set's examples."""
    rows = ws.store.examples(found.id)
    y = [label for _, _, label in rows]
    if found.kind == "tabular":
        return Examples(found.labels, y, records=[f or {} for _, f, _ in rows], descriptions=found.descriptions,
                        features=found.features)
    return Examples(found.labels, y, texts=[t or "" for t, _, _ in rows], descriptions=found.descriptions)


def from_rows(texts: list, labels: list, source: str, known: list[str] | None = None) -> Examples:
    """Gives Examples from a text and a label column (eval files); checks blanks and unknown labels."""
    blanks = [i + 1 for i, label in enumerate(labels) if _blank(label)]
    if blanks:
        raise ClassifyError(f"the label column of {source} is blank in {len(blanks)} rows (first: row {blanks[0]});"
                            " fill or drop those rows")
    y = [str(label).strip() for label in labels]
    if known is not None:
        unknown = sorted(set(y) - set(known))
        if unknown:
            raise ClassifyError(f"{source} has labels the training data does not know: {', '.join(unknown[:5])};"
                                " add examples of them to the training data or drop those rows")
    pairs = [(str(t), lab) for t, lab in zip(texts, y) if not _blank(t)]
    if not pairs:
        raise ClassifyError(f"the text column of {source} is empty; pick the column that holds the text")
    texts_out = check_texts([t for t, _ in pairs])
    order = known if known is not None else list(dict.fromkeys(lab for _, lab in pairs))
    return Examples(list(order), [lab for _, lab in pairs], texts=texts_out)
