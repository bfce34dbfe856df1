"""Fixtures for the model tests: a tiny teacher of each supported family."""

from __future__ import annotations

import pytest
import torch
from transformers import PreTrainedModel

from tests.models.tiny import TEACHERS


@pytest.fixture(params=sorted(TEACHERS))
def teacher(request: pytest.FixtureRequest) -> PreTrainedModel:
    torch.manual_seed(0)
    return TEACHERS[request.param]()
