"""The MLflow UI's start page moves on to the study view; every other request is MLflow's own."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from distilbench.tracking.app import LandOnStudy, create_app, landing_page
from distilbench.tracking.views import STUDY_VIEW_KEY


def mlflow_stand_in() -> Starlette:
    return Starlette(
        routes=[Route("/{path:path}", lambda request: PlainTextResponse("mlflow"), methods=["GET", "POST"])]
    )


def test_the_start_page_redirects_a_bare_visit_to_the_study_view_and_passes_everything_else_on():
    page = landing_page("<html><head><title>MLflow</title></head></html>", "my study")
    client = TestClient(LandOnStudy(mlflow_stand_in(), page))

    start = client.get("/")
    assert start.status_code == 200 and start.headers["content-type"].startswith("text/html")
    assert start.text.startswith("<html><head><script>")  # runs before MLflow's own scripts
    assert '"my study"' in start.text and f"viewStateShareKey={STUDY_VIEW_KEY}" in start.text
    assert "workflowType=machine_learning" in start.text
    assert client.get("/ajax-api/2.0/mlflow/experiments/search").text == "mlflow"
    assert client.post("/").text == "mlflow"


def test_the_real_mlflow_app_is_wrapped_with_its_own_index_page():
    client = TestClient(create_app())
    start = client.get("/")
    assert (
        "<script>(function" in start.text and "static/js/main." in start.text
    )  # MLflow's bundle still loads
    assert client.get("/health").text == "OK"


def test_the_first_visit_defaults_name_keys_the_installed_mlflow_bundle_reads():
    """If MLflow renames its localStorage keys, the first-visit defaults silently stop working."""
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # MLflow refuses unknown hosts
    page = client.get("/").text
    bundle = re.search(r'src="([^"]*static/js/main\.[0-9a-f]+\.js)"', page).group(1)
    code = client.get("/" + bundle.lstrip("./")).text
    assert "`${e}_v${t}`" in code  # useLocalStorage's key scheme
    for key in ("mlflow.workflowType", "mlflow.assistant.fab.autoOpenedOnFirstLoad"):
        assert f'"{key}_v1"' in page and f'key:"{key}",version:1' in code


def test_the_models_page_promotion_key_is_the_one_the_installed_bundle_reads():
    """The Models page's promotion modal reads its key in a lazily loaded chunk, not the main bundle."""
    import mlflow.server

    chunks = (Path(mlflow.server.__file__).parent / "js" / "build" / "static" / "js").glob("*.js")
    key = "_mlflow_model_registry_promo_modal_dismissed"
    assert any(f'key:"{key}",version:1' in chunk.read_text(errors="ignore") for chunk in chunks)
    page = TestClient(create_app(), base_url="http://127.0.0.1").get("/").text
    assert f'"{key}_v1": "true"' in page
