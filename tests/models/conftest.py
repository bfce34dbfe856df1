"""Fixtures for the model tests: a tiny teacher of each supported family, and the deploy tests' tiny
classifier (compression works on the same saved model that serving loads)."""

from __future__ import annotations

import pytest
import torch
from transformers import PreTrainedModel

from tests.deploy.conftest import classifier, classifier_dir  # noqa: F401  (fixtures, found by name)
from tests.models.tiny import TEACHERS


@pytest.fixture(params=sorted(TEACHERS))
def teacher(request: pytest.FixtureRequest) -> PreTrainedModel:
    torch.manual_seed(0)
    return TEACHERS[request.param]()
