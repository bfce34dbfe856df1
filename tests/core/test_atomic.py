"""core.atomic under real write failures: each writer the pipeline uses (safetensors for fold models,
pyarrow for prepared data, joblib for shallow models, numpy for teacher logits, pickle for kept folds,
sqlite for the MLflow store) meets a real file-size limit in a subprocess (RLIMIT_FSIZE, with SIGXFSZ
ignored so the kernel answers EFBIG, as a full disk answers ENOSPC). Each must end in the one-line error
and exit code 2 the entry point gives a user error (cli.main), and leave no half-written file or folder.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT = 4096  # bytes: smaller than what each writer below writes

# run in the subprocess before the writer: the limit, then what cli.main does with an error
PRELUDE = f"""
import resource, signal, sys
from pathlib import Path
from distilbench.core.errors import is_user_error, user_message
from distilbench.core.logs import configure_console

def limited(write):
    configure_console()  # as cli.main: a library's log record of a user error is not echoed
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer
    resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, resource.RLIM_INFINITY))
    try:
        write()
    except Exception as error:
        if not is_user_error(error):
            raise
        print(f"error: {{user_message(error)}}", file=sys.stderr)
        sys.exit(2)
"""

WRITERS = {
    # a fold's model kept for its timing, as crossval.fold.keep_for_timing writes it
    "safetensors": """
        from types import SimpleNamespace
        from distilbench.crossval.fold import keep_for_timing
        from tests.models.tiny import tiny_bert
        model, job = tiny_bert(layers=2), SimpleNamespace(kept_model=out / "timing" / "model")
        limited(lambda: keep_for_timing(job, model))
        """,
    # a fold teacher's copy for its students, as crossval.fold.export_for_students writes it
    "safetensors-fold-teacher": """
        from types import SimpleNamespace
        from distilbench.crossval.fold import export_for_students
        from tests.models.tiny import tiny_bert
        job = SimpleNamespace(export_train_logits=False, export_model=True, model_dir=out / "fold_teacher")
        job.kept_model = out / "nothing-kept"  # no timing copy to link: the teacher is saved
        limited(lambda: export_for_students(job, SimpleNamespace(model=tiny_bert(layers=2)), None, None))
        """,
    "pyarrow": """
        from distilbench.config.datasets import DataConfig
        from distilbench.data.prepared import prepare_all
        import hashlib
        def text(label, i):  # distinct, incompressible: the parquet file outgrows the limit
            return hashlib.sha256(f"{label}{i}".encode()).hexdigest() * 4
        rows = "".join(f"{text(label, i)},{label}\\n" for label in "abc" for i in range(30))
        (out / "big.csv").write_text("text,label\\n" + rows)
        entry = {"source": "file", "path": str(out / "big.csv")}
        config = DataConfig.from_params({"folds": 2, "datasets": [entry]}, "data")
        limited(lambda: prepare_all(config, 0, out / "prepared"))
        """,
    "joblib": """
        import joblib, numpy as np
        from distilbench.core.atomic import atomic_directory
        def save():
            with atomic_directory(out / "shallow") as staging:
                joblib.dump(np.zeros(10_000), staging / "classifier.joblib")
        limited(save)
        """,
    "numpy": """
        import numpy as np
        from distilbench.core.atomic import atomic_path
        def save():
            with atomic_path(out / "teacher_logits.npz") as tmp:
                np.savez(tmp, logits=np.zeros(10_000))
        limited(save)
        """,
    # a computed fold kept until it is logged, as crossval.unlogged.keep writes it
    "pickle": """
        from types import SimpleNamespace
        from distilbench.crossval import unlogged
        job = SimpleNamespace(cache_root=str(out), cache_key="k")
        limited(lambda: unlogged.keep(job, {"history": list(range(10_000))}))
        """,
    # the MLflow store: created first, then a fold's params and metrics logged past the limit
    "sqlite": """
        from mlflow.tracking import MlflowClient
        from mlflow.entities import Metric
        from distilbench.tracking.store import store_errors
        uri = f"sqlite:///{out / 'mlflow.db'}"
        client = MlflowClient(uri)
        run = client.create_run(client.create_experiment("study", artifact_location=out.as_uri()))
        metrics = [Metric("train_loss", 0.5, 0, step) for step in range(1000)]
        def log():
            with store_errors(uri):
                client.log_batch(run.info.run_id, metrics=metrics)
        limited(log)
        """,
}
# what each leaves in `out` besides the files it did not write (the store is there before the write)
BEFORE = {"pyarrow": {"big.csv"}, "sqlite": {"mlflow.db"}}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_real_write_failure_is_one_line_exit_2_and_leaves_no_half_written_file(writer, tmp_path):
    script = PRELUDE + f"out = Path({str(tmp_path)!r})\n" + textwrap.dedent(WRITERS[writer])
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{REPO / 'src'}:{REPO}", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "File too large" in lines[0] or "disk I/O error" in lines[0], lines[0]
    if writer != "sqlite":
        assert "nothing was changed" in lines[0], lines[0]
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    expected = BEFORE.get(writer, set())
    leftovers = {p for p in left - expected if not p.startswith("mlruns")}
    # the folders a writer made on the way (unlogged/, prepared/) may stay; never a file, nor a staging one
    assert not [p for p in leftovers if (tmp_path / p).is_file() or "+" in p or ".partial" in p], leftovers
