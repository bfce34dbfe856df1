"""`mlflow server --app-name distilbench`: MLflow's own server, opening on the study's runs table.

Out of the box http://127.0.0.1:5000 opens MLflow 3's GenAI home, and the runs table starts with no
metric columns. This app is MLflow's unchanged (FastAPI around Flask), except that its start page,
opened without a route, moves on to the study view: the experiment's training runs with the study's
columns (see mlflow_views). Any other page, bookmark or API call is served as before.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from distilbench.core.paths import EXPERIMENT_ENV  # `make ui-mlflow` sets it from params.yaml
from distilbench.tracking.views import study_view_route

DEFAULT_EXPERIMENT = "distilbench"
ID_PLACEHOLDER = "__EXPERIMENT_ID__"

# Runs before MLflow's scripts on every page load (the UI routes by #hash, so every load is GET /).
# First-visit defaults, unless the browser already has its own: training-runs mode rather than GenAI
# (a deep link to a run otherwise opens as a GenAI "evaluation"), and the Assistant panel not opening
# itself over the runs table (its button stays), and the Models page not opening under a promotion modal
# for its new UI (the champion is what a user comes there for).
# Keys: MLflow's useLocalStorage, `${key}_v${version}`.
# Then only a bare start page is redirected, once the experiment is found.
LANDING_SCRIPT = """<script>(function () {
  var firstVisit = {"mlflow.workflowType_v1": '"machine_learning"',
                    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
                    "_mlflow_model_registry_promo_modal_dismissed_v1": "true"};
  try {
    Object.keys(firstVisit).forEach(function (key) {
      if (localStorage.getItem(key) === null) localStorage.setItem(key, firstVisit[key]);
    });
  } catch (e) {}
  var bare = function () { return !location.hash || location.hash === "#" || location.hash === "#/"; };
  if (!bare()) return;
  fetch("ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=" + encodeURIComponent(%(name)s))
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (body) {
      if (body && body.experiment && bare())
        location.replace(%(route)s.replace(%(placeholder)s, body.experiment.experiment_id));
    })
    .catch(function () {});
})();</script>"""


def landing_page(index_html: str, experiment: str) -> str:
    script = LANDING_SCRIPT % {
        "name": json.dumps(experiment),
        "route": json.dumps(study_view_route(ID_PLACEHOLDER)),
        "placeholder": json.dumps(ID_PLACEHOLDER),
    }
    return index_html.replace("<head>", "<head>" + script, 1)


class LandOnStudy:
    """ASGI wrapper: GET / answers the landing page; everything else goes to MLflow's app."""

    def __init__(self, app, page: str):
        self.app, self.page = app, page.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.page})
            return
        await self.app(scope, receive, send)


def create_app():
    """The factory `mlflow server --app-name distilbench` runs (entry point group `mlflow.app`)."""
    import mlflow.server
    from mlflow.server.fastapi_app import app

    index = Path(mlflow.server.__file__).parent / "js" / "build" / "index.html"
    experiment = os.environ.get(EXPERIMENT_ENV, DEFAULT_EXPERIMENT)
    return LandOnStudy(app, landing_page(index.read_text(), experiment))
