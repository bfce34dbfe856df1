"""Prefect flows, one per DVC stage: thin wrappers over `distilbench` functions; plus the deployments
users run and schedule from the dashboard (study.py, served by serve.py) and the GPU concurrency limit
fold tasks hold (gpus.py).

Run the stages through `distilbench <stage>` (what dvc.yaml does): it loads params.yaml and sets the
environment before these modules import prefect, mlflow and transformers.
"""
