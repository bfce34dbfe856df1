"""The report as a pure function of fold records: hand-made results, the tables and numbers they give."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from distilbench.core.errors import DataError
from distilbench.report.stage import inputs_of, markdown_report, metrics_json, write_report
from distilbench.report.statistics import corrected_resampled_ttest
from tests.results import results_json

TEACHER = {"name": "bert", "kind": "transformer", "source": "hub", "id": "bert-base", "layers": None}
STUDENT = {**TEACHER, "name": "bert-l2", "layers": [0, 11]}
DISTILLED = {**STUDENT, "name": "bert-l2-distilled", "distil_from": "bert"}
CNN = {"name": "cnn", "kind": "cnn", "source": "packaged", "id": None, "layers": None}
SPECS = [TEACHER, STUDENT, DISTILLED, CNN]

# accuracy per model on folds 1..5 of one run
ACCURACY = {
    "bert": [0.90, 0.91, 0.92, 0.89, 0.90],
    "bert-l2": [0.88, 0.90, 0.90, 0.88, 0.87],
    "bert-l2-distilled": [0.89, 0.90, 0.91, 0.88, 0.89],
    "cnn": [0.80, 0.81, 0.79, 0.80, 0.82],
}
EXAMPLES, EVAL = 2125, 425


def record(dataset: str, model: str, fold: int, accuracy: float, **extra) -> dict:
    """A fold record as FoldResult.as_record writes it."""
    fields = {
        "dataset": dataset,
        "model": model,
        "fold": fold,
        "task": "multiclass",
        "accuracy": accuracy,
        "macro_f1": accuracy - 0.05,
        "train_seconds": 10.0,
        "eval_seconds": 1.0,
        "train_examples": 1530,
        "eval_examples": EVAL,
        "model_mb": 100.0,
        "parameters": 1_000_000,
        "examples_per_second": 425.0,
        "repeat": 1,
        "export_seconds": 0.0,
        "threads": 2,
        "latency_p50_ms": 10.0,
        "latency_p95_ms": 12.0,
        "throughput_per_s": 400.0,
        **extra,
    }
    return fields | {"train_eval_seconds": fields["train_seconds"] + fields["eval_seconds"]}


def results(accuracy: dict = ACCURACY, dataset: str = "news", specs: list = SPECS, **top) -> dict:
    folds = [record(dataset, m, f + 1, a) for m, scores in accuracy.items() for f, a in enumerate(scores)]
    return {
        "teacher": "bert",
        "models": specs,
        "datasets": {dataset: {"task": "multiclass", "examples": EXAMPLES, "protocol": "kfold"}},
        "folds": folds,
        "baselines": [],
        "tracking_uri": "sqlite:///mlflow.db",
        **top,
    }


def report(res: dict) -> tuple[str, dict]:
    inputs = inputs_of(res)
    return markdown_report(inputs), json.loads(json.dumps(metrics_json(inputs)))


def all_rows(markdown: str) -> list[list[str]]:
    """The cells of every markdown table row, of every table."""
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|")
    ]


def table_rows(markdown: str, first_cell: str) -> list[list[str]]:
    return [r for r in all_rows(markdown) if r[0] == first_cell]


def header_of(markdown: str, column: str) -> list[str]:
    return next(r for r in all_rows(markdown) if column in r)


def cells_by_model(markdown: str, column: str) -> dict[str, dict[str, str]]:
    """The first table with `column`: model -> column -> cell."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|") and f" {column} " in line)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    header, _, *rows = all_rows("\n".join(lines[start:end]))
    return {r[0]: dict(zip(header, r, strict=True)) for r in rows}


# --- paired comparisons -----------------------------------------------------------------------------


def test_paired_comparisons_are_the_corrected_t_test_of_the_fold_differences():
    markdown, metrics = report(results())
    differences = [s - t for s, t in zip(ACCURACY["bert-l2"], ACCURACY["bert"], strict=True)]
    expected = corrected_resampled_ttest(differences, n_train=EXAMPLES - EVAL, n_test=EVAL)
    got = metrics["news"]["bert-l2"]
    assert got["vs_teacher_accuracy_diff_pts"] == pytest.approx(100 * expected.mean_difference, abs=1e-5)
    assert got["vs_teacher_ci_low_pts"] == pytest.approx(100 * expected.ci_low, abs=1e-5)
    assert got["vs_teacher_ci_high_pts"] == pytest.approx(100 * expected.ci_high, abs=1e-5)
    assert got["vs_teacher_p_value"] == pytest.approx(expected.p_value, abs=1e-6)
    assert got["vs_teacher_significant_at_5pct"] == float(expected.significant_at_5pct)

    cells = cells_by_model(markdown, "95% CI (pts)")["bert-l2"]
    assert cells["Against"] == "bert (teacher)"
    assert cells["Mean difference (pts)"] == f"{100 * expected.mean_difference:+.2f}" == "-1.80"
    assert cells["95% CI (pts)"] == f"{100 * expected.ci_low:+.2f} to {100 * expected.ci_high:+.2f}"
    assert cells["p"] == f"{expected.p_value:.3f}"
    # one comparison family per dataset, Holm-adjusted; at 5 folds this one is inconclusive at ±1 point
    # unadjusted the difference is shown (its 95% CI excludes 0); the words say Holm's does not hold
    assert cells["Verdict (5%)"].startswith("inconclusive after Holm: unadjusted, its 95% CI -3.36 to -0.24")
    assert float(cells["p (Holm, m = 4)"]) >= float(cells["p"])
    assert got["vs_teacher_p_holm"] >= got["vs_teacher_p_value"]
    assert got["vs_teacher_equivalent"] == 0.0
    assert cells["Fold differences (pts)"].startswith("fold 1: -2.00, fold 2: -1.00, fold 3: -2.00")


def test_a_distilled_student_is_compared_with_its_fine_tuned_twin_and_the_cnn_only_with_the_teacher():
    markdown, metrics = report(results())
    against = {
        (r[0], r[1]) for r in all_rows(markdown) if len(r) > 1 and r[1].startswith("bert") and "(" in r[1]
    }
    assert against == {
        ("bert-l2", "bert (teacher)"),
        ("bert-l2-distilled", "bert (teacher)"),
        ("bert-l2-distilled", "bert-l2 (fine-tuned)"),
        ("cnn", "bert (teacher)"),
    }
    # 1, 0, 1, 0 and 2 points above its twin
    assert metrics["news"]["bert-l2-distilled"]["vs_fine_tuned_accuracy_diff_pts"] == pytest.approx(0.8)
    assert "vs_fine_tuned_p_value" not in metrics["news"]["cnn"]
    assert "vs_teacher_p_value" not in metrics["news"]["bert"]


def test_a_distilled_student_without_a_fine_tuned_twin_is_compared_with_the_teacher_only():
    other_layers = {**DISTILLED, "layers": [0, 5]}
    _, metrics = report(results(specs=[TEACHER, STUDENT, other_layers, CNN]))
    assert "vs_teacher_p_value" in metrics["news"]["bert-l2-distilled"]
    assert "vs_fine_tuned_p_value" not in metrics["news"]["bert-l2-distilled"]


def test_repeats_pair_on_repeat_and_fold_and_label_the_fold_columns():
    # 2 repeats x 2 folds, records in scrambled order: pairs must follow (repeat, fold), not list order
    scores = {
        ("bert", 1): [0.90, 0.80],
        ("bert", 2): [0.70, 0.60],
        ("cnn", 1): [0.85, 0.78],
        ("cnn", 2): [0.69, 0.50],
    }
    folds = [
        record("news", model, fold, scores[model, repeat][fold - 1], repeat=repeat)
        for model, repeat in scores
        for fold in (2, 1)
    ]
    res = results() | {"models": [TEACHER, CNN], "folds": folds[::-1]}
    markdown, metrics = report(res)
    expected = corrected_resampled_ttest([-0.05, -0.02, -0.01, -0.10], n_train=EXAMPLES - EVAL, n_test=EVAL)
    assert metrics["news"]["cnn"]["vs_teacher_p_value"] == pytest.approx(expected.p_value, abs=1e-6)
    assert "2 × 2-fold CV" in markdown
    assert header_of(markdown, "r1 f1")[1:] == ["r1 f1", "r1 f2", "r2 f1", "r2 f2"]
    assert "r1 f1: -5.00, r1 f2: -2.00, r2 f1: -1.00, r2 f2: -10.00" in markdown
    assert metrics["news"]["cnn"]["accuracy_mean"] == pytest.approx((0.85 + 0.78 + 0.69 + 0.50) / 4)


# --- majority-class baseline ------------------------------------------------------------------------


def baselines(accuracy: list[float], dataset: str = "news") -> list[dict]:
    return [
        {
            "dataset": dataset,
            "repeat": 1,
            "fold": f + 1,
            "strategy": "most_frequent",
            "accuracy": a,
            "macro_f1": a / 5,
        }
        for f, a in enumerate(accuracy)
    ]


def test_the_majority_class_baseline_has_its_own_row_and_a_teacher_below_it_is_flagged():
    majority = [0.905, 0.905, 0.905, 0.905, 0.91]  # mean 0.906 > the teacher's 0.904
    markdown, metrics = report(results(baselines=baselines(majority)))
    cells = cells_by_model(markdown, "Accuracy retained")["majority class (DummyClassifier)"]
    mean, std = pd.Series(majority).mean(), pd.Series(majority).std(ddof=1)
    assert cells["Accuracy"] == f"{mean:.4f} ± {std:.4f}"
    assert cells["Train+val s / fold"] == "—"
    flags = [line for line in markdown.splitlines() if "⚠" in line]
    # the teacher and both transformer students fall short; the CNN is not a transformer
    assert len(flags) == 3 and flags[0].startswith("**⚠ The teacher bert (accuracy 0.9040)")
    assert flags[1].startswith("**⚠ bert-l2 (accuracy 0.8860)")
    assert "is not better than always predicting the majority class (accuracy 0.9060)" in flags[0]
    assert metrics["news"]["bert"]["beats_majority_class"] == 0.0
    assert metrics["news"]["majority_class"]["accuracy_mean"] == pytest.approx(mean)
    per_fold = cells_by_model(markdown, "fold 1")["majority class (DummyClassifier)"]
    assert per_fold["fold 5"] == "0.9100"


def test_no_flag_when_every_transformer_beats_the_majority_class():
    without_repeat = [{k: v for k, v in b.items() if k != "repeat"} for b in baselines([0.5] * 5)]
    markdown, metrics = report(results(baselines=without_repeat))
    assert cells_by_model(markdown, "fold 1")["majority class (DummyClassifier)"]["fold 1"] == "0.5000"
    assert "⚠" not in markdown
    assert metrics["news"]["bert"]["beats_majority_class"] == 1.0
    assert metrics["news"]["cnn"]["beats_majority_class"] == 1.0


# --- cost and speed ---------------------------------------------------------------------------------


def test_a_distilled_student_pays_for_its_fold_teacher_end_to_end():
    folds = [
        record("news", "bert", 1, 0.9, train_seconds=10.0, eval_seconds=1.0, export_seconds=2.0),
        record("news", "bert-l2-distilled", 1, 0.8, train_seconds=5.0, eval_seconds=1.0),
        record("news", "cnn", 1, 0.7, train_seconds=3.0, eval_seconds=1.0),
    ]
    res = results() | {"models": [TEACHER, DISTILLED, CNN], "folds": folds}
    markdown, metrics = report(res)
    rows = cells_by_model(markdown, "End-to-end s / fold")
    assert rows["bert-l2-distilled"]["Train+val s / fold"] == "6.0"
    assert rows["bert-l2-distilled"]["End-to-end s / fold"] == "18.0"  # 5 + 1 own, 10 + 2 its teacher's
    assert rows["bert-l2-distilled"]["Time saved (own)"] == "45.5%"  # 1 - 6/11
    assert rows["bert-l2-distilled"]["Time saved (end-to-end)"] == "-63.6%"  # 1 - 18/11
    assert rows["cnn"]["Time saved (end-to-end)"] == rows["cnn"]["Time saved (own)"] == "63.6%"
    assert rows["bert (teacher)"]["End-to-end s / fold"] == "11.0"  # its export is its students' cost
    assert metrics["news"]["bert-l2-distilled"]["end_to_end_seconds_per_fold"] == 18.0


def test_every_row_shows_its_batch_1_latency_and_batch_32_throughput():
    speed = {"bert": (20.0, 30.0, 100.0), "cnn": (1.0, 2.0, 2500.0)}
    folds = [
        record("news", m, f, 0.9, latency_p50_ms=p50, latency_p95_ms=p95, throughput_per_s=tp, threads=2)
        for m, (p50, p95, tp) in speed.items()
        for f in (1, 2)
    ]
    markdown, metrics = report(results() | {"models": [TEACHER, CNN], "folds": folds})
    cells = cells_by_model(markdown, "Throughput (ex/s, batch 32)")["cnn"]
    assert cells["Latency p50 / p95 (ms, batch 1)"] == "1.0 / 2.0"
    assert cells["Throughput (ex/s, batch 32)"] == "2500"
    assert cells["Speed-up vs teacher"] == "25.00×"
    assert metrics["news"]["cnn"]["throughput_speedup_vs_teacher"] == 25.0
    assert "different numbers of torch threads" not in markdown


def test_folds_timed_with_different_thread_counts_are_said_to_be():
    folds = [record("news", m, f, 0.9, threads=t) for m, t in (("bert", 2), ("cnn", 1)) for f in (1, 2)]
    folds.append(record("news", "cnn", 3, 0.9, threads=2))
    folds.append(record("news", "bert", 3, 0.9, threads=2))
    markdown, _ = report(results() | {"models": [TEACHER, CNN], "folds": folds})
    assert "different numbers of torch threads (bert: 2; cnn: 1, 2)" in markdown


# --- layout -----------------------------------------------------------------------------------------


def test_several_datasets_get_models_as_rows_and_datasets_as_columns_with_published_figures():
    res = results(dataset="bbc")
    other = results(dataset="mine")
    res["folds"] += other["folds"]
    res["datasets"].update(other["datasets"])
    markdown, _ = report(res)
    across = markdown[markdown.index("## Across datasets") :]
    for title in (
        "Accuracy (mean ± std over folds):",
        "Train+val s / fold:",
        "Time saved (own):",
        "Size (MB):",
    ):
        assert title in across
    assert header_of(across, "bbc") == ["Model", "bbc", "mine"]
    assert table_rows(across, "cnn")[0] == ["cnn", "0.8040 ± 0.0114", "0.8040 ± 0.0114"]
    assert table_rows(across, "published BERT-base †") == [
        ["published BERT-base †", "0.974 (cased) / 0.976 (uncased)", "—"]
    ]
    assert "other people's figures on other hardware" in across
    # and under the bbc table, not under the other one
    assert markdown.count("*Published accuracy (") == 1


def test_one_dataset_has_no_cross_dataset_tables_but_its_published_line():
    markdown, _ = report(results(dataset="sst2"))
    assert "## Across datasets" not in markdown
    assert "BERT-base 0.927; DistilBERT 0.913 — GLUE dev set" in markdown


@pytest.mark.parametrize("key", ["baselines", "datasets", "tracking_uri"])
def test_results_without_a_key_every_crossval_writes_are_refused_with_rerun_crossval(tmp_path, key):
    path = tmp_path / "crossval.json"
    payload = json.loads(results_json(folds=3))
    del payload[key]
    path.write_text(json.dumps(payload))
    with pytest.raises(DataError, match=rf"not crossval results \(no {key}\); rerun crossval"):
        write_report(path, tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


def test_a_hold_out_split_has_one_fold_and_no_test():
    res = results(accuracy={"bert": [0.9], "cnn": [0.8]}, specs=[TEACHER, CNN])
    res["datasets"]["news"]["protocol"] = "holdout"
    markdown, metrics = report(res)
    assert cells_by_model(markdown, "95% CI (pts)")["cnn"]["Verdict (5%)"] == "no test (one fold)"
    assert "vs_teacher_p_value" not in metrics["news"]["cnn"]
    assert "hold-out validation split" in markdown


# --- the row to deploy, whatever its kind -------------------------------------------------------------

LINEAR = {"name": "tfidf", "kind": "linear", "source": "packaged", "id": None, "layers": None}
STATIC = {"name": "m2v", "kind": "static", "source": "packaged", "id": "minilm", "layers": None}


def kinds_results(linear: list[float], static: list[float], latency: dict[str, float]) -> dict:
    """The teacher, a student and the CNN of ACCURACY, with a linear and a static row and own latencies."""
    accuracy = {"bert": ACCURACY["bert"], "bert-l2": ACCURACY["bert-l2"], "cnn": ACCURACY["cnn"]}
    accuracy |= {"tfidf": linear, "m2v": static}
    folds = [
        record("news", m, f + 1, a, latency_p50_ms=latency[m])
        for m, scores in accuracy.items()
        for f, a in enumerate(scores)
    ]
    return results(specs=[TEACHER, STUDENT, CNN, LINEAR, STATIC]) | {"folds": folds}


LATENCY = {"bert": 10.0, "bert-l2": 5.0, "cnn": 0.5, "tfidf": 1.0, "m2v": 2.0}


def test_the_headline_names_a_linear_row_that_beats_the_teacher_and_says_so_with_the_test():
    # tfidf is 2 points above the teacher on every fold: significant, and the fastest servable row
    better = [a + 0.02 + e for a, e in zip(ACCURACY["bert"], (0, 0.002, -0.002, 0.001, -0.001), strict=True)]
    markdown, _ = report(kinds_results(better, ACCURACY["bert-l2"], LATENCY))
    headline = next(line for line in markdown.splitlines() if line.startswith("**Row to deploy**"))
    assert "fastest of the rows shown not worse than the teacher by 1 accuracy point" in headline
    assert "**tfidf**, a TF-IDF linear model, accuracy 0.9240 against the teacher's 0.9040" in headline
    assert "1.00 ms a text at batch 1 against 10.00 ms" in headline
    assert "it beats the teacher: +2.00 points (better (95% CI " in headline
    # the CNN is faster still but cannot be served; its row is in the table, not in the headline
    assert "cnn" not in headline


def test_an_inconclusive_static_row_is_never_called_equal():
    noisy = [0.91, 0.89, 0.93, 0.88, 0.91]  # the teacher's mean, its folds either side of the teacher's
    slower_linear = dict(LATENCY, tfidf=20.0)
    markdown, _ = report(kinds_results([0.5] * 5, noisy, slower_linear))
    headline = next(line for line in markdown.splitlines() if line.startswith("**Row to deploy**"))
    assert "**m2v**, a static-embedding model" in headline
    assert (
        "is not distinguishable from the teacher with these folds, nor shown to be within ±1 point of it "
        "(inconclusive): +0.00 points" in headline
    )
    assert "equal" not in markdown.lower()
    best = next(line for line in markdown.splitlines() if line.startswith("**Best row of each kind**"))
    assert "transformer **bert** 0.9040" in best and "TF-IDF linear model **tfidf** 0.5000" in best
    worse = next(line for line in markdown.splitlines() if line.startswith("- tfidf"))
    assert "is worse than the teacher by more than 1 point: -40.40 points" in worse


def test_the_headline_follows_the_rule_it_is_given():
    from distilbench.report.choice import Rule

    better = [a + 0.02 + e for a, e in zip(ACCURACY["bert"], (0, 0.002, -0.002, 0.001, -0.001), strict=True)]
    inputs = inputs_of(kinds_results(better, ACCURACY["bert-l2"], LATENCY))
    named = markdown_report(inputs, Rule(model="bert-l2", max_accuracy_drop=1.0))
    assert "**bert-l2**, a transformer" in named
    strict = markdown_report(inputs, Rule(model=None, max_accuracy_drop=0.0))
    assert "**tfidf**" in strict.split("**Best row")[0]
    missing = markdown_report(inputs, Rule(model="nope", max_accuracy_drop=1.0))
    assert "**Row to deploy**: none (select.model: 'nope' is not a row of the report" in missing


def test_the_headline_and_the_select_stage_make_the_same_choice_when_latencies_tie():
    """Both apply one rule to the same numbers: the report's own rows and the select stage's metrics.json."""
    from distilbench.report.choice import Rule, choose, rows_of

    # tfidf and m2v: on the teacher's accuracy, fold by fold either is the faster (their latency ratio's
    # CI holds 1); tfidf costs 10x the training seconds, so the tie goes to m2v although its mean is slower
    latency = {"tfidf": [1.0, 1.3, 0.9, 1.2, 1.0], "m2v": [1.1, 1.0, 1.1, 1.0, 1.3]}
    train = {"tfidf": 100.0, "m2v": 10.0}
    folds = [
        record(
            "news",
            m,
            f + 1,
            a,
            latency_p50_ms=latency.get(m, [10.0] * 5)[f],
            train_seconds=train.get(m, 10.0),
        )
        for m, scores in {
            "bert": ACCURACY["bert"],
            "tfidf": ACCURACY["bert"],
            "m2v": ACCURACY["bert"],
        }.items()
        for f, a in enumerate(scores)
    ]
    for fold in folds:
        fold["train_eval_seconds"] = fold["train_seconds"] + fold["eval_seconds"]
    markdown, metrics = report(results(specs=[TEACHER, LINEAR, STATIC]) | {"folds": folds})
    headline = next(line for line in markdown.splitlines() if line.startswith("**Row to deploy**"))
    selected = choose(rows_of(metrics, {"tfidf": "linear", "m2v": "static"})["news"], "bert", Rule(None, 1.0))
    assert selected.row == "m2v" and "**m2v**" in headline
    assert "a tie, broken by" in selected.reason


def test_a_teacher_compressed_to_deploy_is_said_to_be_the_teachers_own_weights_tested_by_mcnemar():
    variant = {"variant_of": "bert", "variant": "onnx-int8", "agreement_with_fp32": 0.99}
    variant |= {"max_abs_logit_diff": 0.1, "only_variant_right": 2, "only_fp32_right": 3}
    accuracy = {"bert": ACCURACY["bert"], "cnn": ACCURACY["cnn"]}
    folds = [record("news", m, f + 1, a) for m, scores in accuracy.items() for f, a in enumerate(scores)]
    folds += [
        record("news", "bert+onnx-int8", f + 1, a, latency_p50_ms=3.0, **variant)
        for f, a in enumerate(ACCURACY["bert"])
    ]
    markdown, _ = report(results(specs=[TEACHER, CNN]) | {"folds": folds})
    headline = next(line for line in markdown.splitlines() if line.startswith("**Row to deploy**"))
    assert "**bert+onnx-int8**, a transformer" in headline
    assert "It is the teacher's own weights as onnx-int8" in headline and "McNemar" in headline
    assert "no paired test" not in headline
