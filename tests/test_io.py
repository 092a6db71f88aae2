"""Saving and loading: identical predictions, shared layers again, clear errors, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest

import stackae
from stackae.io import atomic_path


def test_save_load_round_trip_keeps_sharing(tmp_path, unit_data):
    stack = stackae.build("16-8:relu-4:tanh|sigmoid", seed=0)
    stack.fit(unit_data, epochs=1, verbose=0, seed=0)
    folder = stack.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [
        "autoencoder.weights.h5",
        "spec.yaml",
        "stackae.json",
    ]
    loaded = stackae.load(folder)
    np.testing.assert_array_equal(loaded.reconstruct(unit_data), stack.reconstruct(unit_data))
    # Still one set of layers: training the loaded autoencoder moves its encoder.
    codes = loaded.encode(unit_data)
    loaded.fit(unit_data, epochs=1, verbose=0)
    assert not np.allclose(loaded.encode(unit_data), codes)


def test_missing_and_damaged_directories_give_clear_errors(tmp_path):
    with pytest.raises(stackae.errors.ModelFileError, match="No saved stack"):
        stackae.load(tmp_path / "nothing")
    folder = stackae.build("6-3", seed=0).save(tmp_path / "m")
    weights = folder / "autoencoder.weights.h5"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    with pytest.raises(stackae.errors.ModelFileError, match="truncated, corrupted"):
        stackae.load(folder)
    weights.unlink()
    with pytest.raises(stackae.errors.ModelFileError, match="`autoencoder.weights.h5` is missing"):
        stackae.load(folder)
    (folder / "spec.yaml").write_text("input_dim: -1\nencoder: [{units: 3}]\n")
    stackae.build("6-3").save(tmp_path / "other")
    (tmp_path / "other" / "spec.yaml").write_text("input_dim: -1\nencoder: [{units: 3}]\n")
    with pytest.raises(stackae.SpecError, match="Received: input_dim=-1"):
        stackae.load(tmp_path / "other")


def test_weights_of_another_spec_are_refused(tmp_path):
    folder = stackae.build("6-3", seed=0).save(tmp_path / "m")
    stackae.StackSpec.parse("6-4").to_yaml(folder / "spec.yaml")
    with pytest.raises(stackae.errors.ModelFileError, match="from another spec"):
        stackae.load(folder)


def test_atomic_path_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
