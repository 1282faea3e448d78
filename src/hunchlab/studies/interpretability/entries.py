"""The three study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry reads its settings from the run's params, trains (or loads) a model
per training seed, measures it, and reports through the run: training losses
with ``run.log``, the seed-averaged measures as summary metrics (everything the
check reads, budgets included), per-example records with ``run.example``, and
figures (each with its CSV and rebuild script) as artifacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hunchlab.figure_files import FigureFiles
from hunchlab.plots import bar_chart, custom_figure
from hunchlab.studies.interpretability import figures, induction, residual_sae, sae, superposition
from hunchlab.studies.interpretability.common import mean_metrics, training_seeds
from hunchlab.studies.params import from_params
from hunchlab.studies.runtime import Progress, set_threads, settings_from
from hunchlab.studies.training import Callback

RECORDS = 64  # induction: evaluation sequences kept as per-example records


def _logger(run: Any, name: str, seed: int, index: int, steps: int, progress: Progress) -> Callback:
    """The training callback: the loss to ``run.log`` (a curve per seed), and the progress line."""
    suffix = "" if seed == run.seed else f"/seed{seed}"

    def log(step: int, loss: float) -> None:
        run.log({f"train/{name}/loss{suffix}": loss}, step=step)
        progress.update(index * steps + step + 1, f"seed {index + 1}, step {step + 1}/{steps}")

    return log


def _report(run: Any, per_seed: list[dict[str, float]], records: list[dict[str, Any]],
            figure_files: list[FigureFiles]) -> None:
    for name, value in mean_metrics(per_seed).items():
        run.summary[name] = value
    for record in records:
        run.example(**record)
    for files in figure_files:
        for path in (files.figure, files.data, files.script):
            run.artifact(path)


def _seeds(run: Any, n: int, name: str, steps: int) -> list[tuple[int, Callback]]:
    """Each training seed with its logging callback."""
    progress = Progress(name, n * steps)
    return [(seed, _logger(run, name, seed, i, steps, progress)) for i, seed in enumerate(training_seeds(run.seed, n))]


def superposition_settings(config: Mapping[str, Any]) -> superposition.SuperpositionSettings:
    return from_params(superposition.SuperpositionSettings, config, "superposition study").validated()


@settings_from(superposition_settings)
def superposition_entry(run: Any) -> None:
    """Study 1: features represented vs sparsity, with and without the ReLU (Elhage et al. 2022)."""
    set_threads()
    s = superposition_settings(run.config)
    measures = [superposition.measure(superposition.train_models(s, seed, log), s)
                for seed, log in _seeds(run, s.seeds, "superposition", s.steps)]
    files = figures.superposition_figures(Path(run.dir), s, measures)
    _report(run, [superposition.metrics(m, s) for m in measures], superposition.records(measures[0], s), files)


def induction_settings(config: Mapping[str, Any]) -> induction.InductionSettings:
    return from_params(induction.InductionSettings, config, "induction-heads study").validated()


@settings_from(induction_settings)
def induction_entry(run: Any) -> None:
    """Study 2: induction heads, found by their attention, confirmed by ablation and patching (Olsson 2022)."""
    set_threads()
    s = induction_settings(run.config)
    per_seed, first = [], None
    for seed, log in _seeds(run, s.seeds, "induction", s.steps):
        model = induction.train_model(s, seed, log)
        batch = induction.eval_batch(s, seed)
        analysis = induction.analyse(model, s, batch)
        per_seed.append(analysis.metrics)
        first = first or (model, batch, analysis)
    assert first is not None
    model, batch, analysis = first
    files = _induction_figures(Path(run.dir), s, model, batch, analysis)
    records = induction.records(model, batch, RECORDS)
    bonus: dict[str, float] = {}
    if s.residual_sae:
        bonus, latents, figure = _residual_sae(run, s, model)
        records, files = records + latents, files + [figure]
    _report(run, per_seed, records, files)
    for name, value in bonus.items():  # one SAE, on the first seed's model: not averaged over seeds
        run.summary[name] = value


def _residual_sae(run: Any, s: induction.InductionSettings, model: Any
                  ) -> tuple[dict[str, float], list[dict[str, Any]], FigureFiles]:
    """The bonus: an SAE on the residual stream, its latents as records, a bar chart of what they encode."""
    (seed, log), = _seeds(run, 1, "residual_sae", residual_sae.STEPS)
    acts, tokens = residual_sae.activations(model, s, seed)
    metrics, latents = residual_sae.measure(residual_sae.train(acts, s, seed, log), acts, tokens)
    kinds = [r["output"].split(" = ")[0] if r["correct"] else "unnamed" for r in latents]
    bars = [{"label": kind, "mean": kinds.count(kind), "lo": None, "hi": None}
            for kind in (*residual_sae.PROPERTIES, "unnamed")]
    title = f"residual-stream SAE: {len(latents)} live latents"
    return metrics, latents, bar_chart(bars, Path(run.dir) / "residual_sae.png", title, "latents")


def _induction_figures(folder: Path, s: induction.InductionSettings, model: Any, batch: induction.Batch,
                       analysis: induction.Analysis) -> list[FigureFiles]:
    m = analysis.metrics
    heads = [f"L{layer}/h{h}" for layer in range(2) for h in range(s.n_head)]
    rows: list[dict[str, Any]] = [
        {"panel": "score", "label": head, "series": series, "value": m[f"score/{key}/{head}"]}
        for head in heads for key, series in (("prev", "previous-token"), ("induction", "induction"))]
    effects = heads + ["layer1", "layer0/chosen", "layer0/unchosen"]
    kinds = (("ablate", "mean-ablated"), ("patch", "patched from other sequences"))
    rows += [{"panel": "effect", "label": name, "series": series, "value": m[f"{key}/{name}"]}
             for name in effects for key, series in kinds]
    patterns, title = induction.pattern_rows(model, batch)
    return [
        custom_figure(rows, ["panel", "label", "series", "value"], figures.draw_heads, folder / "heads.png"),
        custom_figure(induction.position_rows(model, s, batch, analysis.chosen), ["condition", "offset", "loss"],
                      figures.draw_loss_by_position, folder / "loss_by_position.png"),
        custom_figure(patterns, ["head", "layer", "query", "key", "weight"], figures.draw_patterns,
                      folder / "patterns.png", title=title),
    ]


def sae_settings(config: Mapping[str, Any]) -> sae.SAESettings:
    return from_params(sae.SAESettings, config, "sparse-autoencoders study").validated()


@settings_from(sae_settings)
def sae_entry(run: Any) -> None:
    """Study 3: SAEs recover ground-truth features, with an L1 sweep (Sharkey et al. 2022; Bricken et al. 2023)."""
    set_threads()
    s = sae_settings(run.config)
    results, rows = [], []
    for k, (seed, log) in enumerate(_seeds(run, s.seeds, "sae", s.steps)):
        features = sae.true_features(s, seed)
        result = sae.measure(sae.train_saes(s, features, seed, log), s, features, seed)
        results.append(result)
        rows += [_frontier_row(result.metrics, l1, k) for l1 in s.l1_values]
    files = [figures.sae_frontier_figure(Path(run.dir), rows, s.n_features * s.p_active)]
    _report(run, [r.metrics for r in results], results[0].records, files)


def _frontier_row(m: dict[str, float], l1: float, seed: int) -> dict[str, Any]:
    name = f"l1={l1:g}"
    return {"l1": f"{l1:g}", "seed": seed, "l0": m[f"l0/{name}"], "fvu": m[f"fvu/{name}"],
            "mmcs_true": m[f"mmcs/true/{name}"], "mmcs_random": m[f"mmcs/random/{name}"],
            "dead": m[f"dead/{name}"], "dense": m[f"dense/{name}"]}

