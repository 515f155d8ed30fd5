"""What a sweep leaves in its output folder, written from the study (every
trial, whichever process ran it):

- ``best.toml``: the best trial's experiment file, ready for ``lincoln train``;
- ``trials.csv`` and ``trials.json``: one row per trial (its values, score,
  state, seed, epochs; the JSON adds each evaluation's reported value);
- ``search.png``: the score of each trial with the best so far, and the
  evaluations of each trial by epoch, pruned ones marked (needs matplotlib).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..plotting import MATPLOTLIB_MISSING
from .study import Sweep
from .tomlfile import dumps

__all__ = ["trial_rows", "write_reports", "write_best", "plot_search", "REPORTS"]

REPORTS = ("best.toml", "trials.csv", "trials.json", "search.png")
_ATTRS = ("seed", "epochs_run", "best_epoch", "pruned_epoch", "stop_reason", "worker")


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """One dict per trial: number, state, value, seconds, the drawn values
    (by key), the recorded seed and epochs, and an error if it failed."""
    trials = study.get_trials(deepcopy=False)
    keys = list(dict.fromkeys(k for t in trials for k in t.params))
    rows = []
    for t in trials:
        seconds = t.duration.total_seconds() if t.duration is not None else None
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "seconds": None if seconds is None else round(seconds, 3),
        }
        row.update({key: t.params.get(key) for key in keys})
        row.update({name: t.user_attrs.get(name) for name in _ATTRS})
        row["error"] = t.user_attrs.get("error")
        rows.append(row)
    return rows


def _write_tables(study: optuna.Study, out: Path) -> None:
    rows = trial_rows(study)
    with open(out / "trials.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["number"])
        writer.writeheader()
        writer.writerows(rows)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    for row in rows:
        steps = trials[row["number"]].intermediate_values
        row["evaluations"] = {str(epoch): steps[epoch] for epoch in sorted(steps)}
    document = {
        "study": study.study_name,
        "metric": study.user_attrs.get("metric"),
        "direction": study.direction.name.lower(),
        "trials": rows,
    }
    (out / "trials.json").write_text(json.dumps(document, indent=2) + "\n")


def write_best(study: optuna.Study, sweep: Sweep) -> Path | None:
    """Write the best finished trial's experiment as ``best.toml`` (None when
    no trial has finished)."""
    if not any(
        t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)
    ):
        return None
    best = study.best_trial
    drawn = "\n".join(f"  {key} = {value!r}" for key, value in best.params.items())
    comment = (
        f"The best trial ({best.number}) of the sweep {study.study_name!r}: "
        f"{sweep.metric} {best.value:.4f} on held-out training data.\n"
        f"Swept from {sweep.config} over {sweep.space}; its values:\n{drawn}\n"
        f"Train it with: lincoln train {sweep.out / 'best.toml'} --out runs/best"
    )
    path = sweep.out / "best.toml"
    path.write_text(dumps(best.user_attrs["experiment"], comment))
    return path


def write_reports(study: optuna.Study, sweep: Sweep) -> list[Path]:
    """Write the reports the study has data for; return their paths."""
    sweep.out.mkdir(parents=True, exist_ok=True)
    _write_tables(study, sweep.out)
    written = [sweep.out / "trials.csv", sweep.out / "trials.json"]
    best = write_best(study, sweep)
    plot = plot_search(study, sweep.metric, sweep.out / "search.png")
    return [p for p in (best, *written, plot) if p is not None]


def plot_search(study: optuna.Study, metric: str, path: Path) -> Path | None:
    """Draw the search to ``path`` (PNG); None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # optional: the tables say the same in numbers
        print(f"lincoln tune: no search.png: {MATPLOTLIB_MISSING}")
        return None
    trials = study.get_trials(deepcopy=False)
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    by_trial, by_epoch = fig.subplots(1, 2)
    _draw_scores(by_trial, trials, metric, study.direction)
    _draw_curves(by_epoch, trials, metric)
    fig.suptitle(f"sweep {study.study_name!r}: {len(trials)} trials")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _draw_scores(
    ax: Any, trials: list[FrozenTrial], metric: str, direction: Any
) -> None:
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    ax.plot([t.number for t in done], [t.value for t in done], "o", label="finished")
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.last_step]
    ax.plot(
        [t.number for t in pruned],
        [t.intermediate_values[t.last_step] for t in pruned],  # type: ignore[index]
        "x",
        color="tab:orange",
        label="pruned (last evaluation)",
    )
    pick = max if direction == optuna.study.StudyDirection.MAXIMIZE else min
    best: float | None = None
    numbers, values = [], []
    for t in done:
        value = float(t.value)  # type: ignore[arg-type]
        best = value if best is None else pick(best, value)
        numbers.append(t.number)
        values.append(best)
    ax.step(numbers, values, where="post", color="tab:green", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.legend(loc="best", fontsize="small")


def _draw_curves(ax: Any, trials: list[FrozenTrial], metric: str) -> None:
    for t in trials:
        steps = sorted(t.intermediate_values)
        if not steps:
            continue
        values = [t.intermediate_values[s] for s in steps]
        pruned = t.state == TrialState.PRUNED
        color = "tab:orange" if pruned else "tab:blue"
        ax.plot(steps, values, color=color, alpha=0.5, linewidth=1)
        if pruned:
            ax.plot(steps[-1:], values[-1:], "x", color=color)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{metric} at each evaluation")
    ax.set_title("pruned trials in orange", fontsize="small")
