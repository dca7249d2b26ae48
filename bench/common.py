"""Helpers shared by the bench scripts: timing, percentiles, tables and JSON results."""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def timed_ms(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, out


def p50_p95(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(percentile(samples, 95), 3)}


def print_table(title: str, rows: list[dict], columns: list[str]) -> None:
    print(f"\n{title}")
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def interleave(sides: dict, rounds: int = 5, warmup: int = 1, baseline: str | None = None) -> dict:
    """Runs each side (name -> function giving a number) once per round, rotating which goes first, so
    drift on a busy machine hits every side alike.

    Gives each side's samples and median, and per other side its ratio to the baseline (default: the
    second side) per round, with the ratio's median and spread (min, max, interquartile range): a ratio
    is trusted from the median of paired rounds, not from one run of each side.
    """
    names = list(sides)
    baseline = baseline or (names[1] if len(names) > 1 else names[0])
    for _ in range(warmup):
        for name in names:
            sides[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(max(rounds, 1)):
        shift = i % len(names)
        order = names[shift:] + names[:shift]
        if i % 2:
            order = order[::-1]
        for name in order:
            samples[name].append(float(sides[name]()))
    out: dict = {"rounds": rounds, "baseline": baseline}
    for name in names:
        out[name] = {"median": round(statistics.median(samples[name]), 4),
                     "samples": [round(v, 4) for v in samples[name]]}
    out["ratios"] = {name: ratio_summary([x / y for x, y in zip(samples[name], samples[baseline]) if y],
                                         f"{name}/{baseline}")
                     for name in names if name != baseline}
    if len(names) == 2:
        out["ratio"] = out["ratios"][names[0] if names[0] != baseline else names[1]]
    return out


def ratio_summary(ratios: list[float], name: str = "ratio") -> dict:
    """Gives a ratio's median and spread over paired rounds."""
    if not ratios:
        return {"of": name, "median": float("nan")}
    return {"of": name, "median": round(statistics.median(ratios), 4), "min": round(min(ratios), 4),
            "max": round(max(ratios), 4), "p25": round(percentile(ratios, 25), 4),
            "p75": round(percentile(ratios, 75), 4), "n": len(ratios)}


def fit_threshold(scores: list[tuple[float, bool]], grid: list[float]) -> tuple[float, float]:
    """Gives the threshold from `grid` that best separates positives (score >= bar) from negatives,
    and its accuracy on those scores; ties go to the middle of the best run of thresholds."""
    if not scores:
        return grid[len(grid) // 2], float("nan")
    accuracy = [sum((s >= bar) == positive for s, positive in scores) / len(scores) for bar in grid]
    best = max(accuracy)
    tied = [bar for bar, acc in zip(grid, accuracy) if acc == best]
    return tied[len(tied) // 2], best


def threshold_report(scores: list[tuple[float, bool]], bar: float) -> dict:
    """Gives how a threshold does on scores: accuracy, and positives/negatives on each side of it."""
    positives = [s for s, p in scores if p]
    negatives = [s for s, p in scores if not p]
    n = len(scores) or 1
    return {"n": len(scores), "accuracy": round(sum((s >= bar) == p for s, p in scores) / n, 4),
            "positives": len(positives), "positives_below_bar": sum(1 for s in positives if s < bar),
            "negatives": len(negatives), "negatives_above_bar": sum(1 for s in negatives if s >= bar)}


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                        "platform": platform.platform()}, **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path
