"""Prefect flows, one per DVC stage: thin wrappers over `distilbench` functions.

Run them through `distilbench <stage>` (what dvc.yaml does): it loads params.yaml and sets the
environment before these modules import prefect, mlflow and transformers.
"""
