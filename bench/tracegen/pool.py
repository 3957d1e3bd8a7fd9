#!/usr/bin/env python3
"""Pools the scores of bench/tracegen/evaluate.sh's runs over seeds, per shape, for the forecaster
and the two predict_linear baselines, and marks where the forecaster misses a target of issue #4
(*) or does worse than a baseline (<24, <168).

usage: pool.py WORK_DIR SEEDS(1,2,3) TOOLS_DIR
"""
import json
import sys

work, seeds, tools = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
sys.path.insert(0, tools)
import score_forecasts as sf  # noqa: E402

BENCH_SHAPES = {"steady", "weekday", "growth", "batch", "stepdown", "launch", "noisy", "runaway", "topups", "monthly"}
RUNS = {"forecast": "forecast", "linear 24 h": "linear24", "linear 7 d": "linear168"}
COLUMNS = [("events", "events"), ("warned_24h_no_runaway", "warn24"), ("alert_precision", "prec"),
           ("eta_rel_err_median", "err50"), ("eta_rel_err_p90", "err90"), ("band_coverage", "band"),
           ("scare_rate", "scare"), ("runaway_react_h", "react"), ("median_lead_h", "lead")]
TARGETS = {"warned_24h_no_runaway": lambda v: v >= 0.97, "alert_precision": lambda v: v >= 0.97,
           "eta_rel_err_median": lambda v: v <= 0.10, "eta_rel_err_p90": lambda v: v <= 0.5,
           "band_coverage": lambda v: 0.75 <= v <= 0.90, "scare_rate": lambda v: v <= 0.01,
           "runaway_react_h": lambda v: v <= 1}
HIGHER_IS_BETTER = {"warned_24h_no_runaway", "alert_precision", "median_lead_h"}

traces, truth, predictions = {}, {}, {run: [] for run in RUNS.values()}
for seed in seeds:
    base = f"{work}/seed{seed}"
    traces.update(sf.load_traces(base))
    truth.update(json.load(open(f"{base}/truth.json")))
    for run in RUNS.values():
        predictions[run] += [json.loads(line) for line in open(f"{base}.{run}.jsonl") if line.strip()]


def worse(column, value, baseline):
    if value is None or baseline is None or column in ("events", "band_coverage"):
        return False
    return value < baseline if column in HIGHER_IS_BETTER else value > baseline


for subset, title in (("bench", "the bench's shapes, new seeds"), ("new", "shapes the bench does not have")):
    chosen = {name: doc for name, doc in traces.items() if (truth[name]["shape"] in BENCH_SHAPES) == (subset == "bench")}
    scores = {run: sf.score(chosen, predictions[run], truth) for run in RUNS.values()}
    print(f"\n{title} (seeds {','.join(map(str, seeds))}; * misses a target, <24/<168 worse than a baseline)")
    print("shape".ljust(13) + "".join(short.rjust(15) for _, short in COLUMNS))
    rows = list(scores["forecast"]["by_shape"].items()) + [("OVERALL", scores["forecast"]["overall"])]
    for shape, m in rows:
        cells = []
        for column, _ in COLUMNS:
            value = m[column]
            text = "-" if value is None else str(value)
            if value is not None and column in TARGETS and not TARGETS[column](value):
                text += "*"
            for label, run in (("<24", "linear24"), ("<168", "linear168")):
                other = scores[run]["overall"] if shape == "OVERALL" else scores[run]["by_shape"].get(shape, {})
                if worse(column, value, other.get(column)):
                    text += label
            cells.append(text.rjust(15))
        print(shape.ljust(13) + "".join(cells))
    for label, run in (("linear 24 h", "linear24"), ("linear 7 d", "linear168")):
        print(f"  {label} overall: " + ", ".join(f"{short} {scores[run]['overall'][c]}" for c, short in COLUMNS))
