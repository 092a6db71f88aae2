"""Reliability: generated specs (Hypothesis), a real SIGKILL mid-training, untrusted files."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stackae
from stackae import SpecError, StackSpec

ACTIVATION = st.sampled_from(["relu", "tanh", "sigmoid", "linear", "elu", "softplus"])
VALID_LAYER = st.fixed_dictionaries(
    {"units": st.integers(1, 12), "activation": ACTIVATION},
    optional={
        "use_bias": st.booleans(),
        "dropout": st.floats(0, 0.9),
        "kernel_l2": st.floats(0, 0.1),
    },
)


@st.composite
def valid_specs(draw):
    layers = draw(st.lists(VALID_LAYER, min_size=1, max_size=4))
    data = {
        "input_dim": draw(st.integers(1, 16)),
        "encoder": layers,
        "tied_weights": draw(st.booleans()),
    }
    choice = draw(st.sampled_from(["none", "output", "override"]))
    if choice == "output":
        data["output_activation"] = draw(ACTIVATION)
    elif choice == "override":
        data["decoder_activations"] = draw(
            st.lists(ACTIVATION, min_size=len(layers), max_size=len(layers))
        )
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs())
def test_every_valid_spec_builds_round_trips_and_runs(data):
    spec = StackSpec(**data)
    assert StackSpec.from_yaml_text(spec.to_yaml()) == spec
    assert StackSpec.from_json(spec.to_json()) == spec
    if not spec.tied_weights and all(
        layer.model_dump(exclude_defaults=True).keys() <= {"units", "activation"}
        for layer in spec.encoder
    ):
        assert StackSpec.parse(spec.to_shorthand()) == spec
    stack = stackae.build(spec, seed=0)
    out = keras.ops.convert_to_numpy(stack.autoencoder(np.ones((2, spec.input_dim), "float32")))
    assert out.shape == (2, spec.input_dim) and np.isfinite(out).all()


BAD_VALUES = {
    "units": st.one_of(st.integers(max_value=0), st.just(2.5), st.just("8"), st.just(True)),
    "activation": st.text(min_size=1, max_size=8).filter(lambda s: s not in stackae.ACTIVATIONS),
    "dropout": st.one_of(st.floats(1.0, 10.0), st.floats(-10, -0.001)),
    "kernel_l1": st.floats(-10, -0.001),
    "kind": st.text(min_size=1, max_size=8).filter(lambda s: s not in stackae.layer_kinds()),
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(BAD_VALUES)).flatmap(lambda f: st.tuples(st.just(f), BAD_VALUES[f])),
    st.integers(0, 2),
)
def test_every_invalid_layer_names_the_field_and_value(bad, position):
    field, value = bad
    layers = [{"units": 4}, {"units": 3}, {"units": 2}]
    layers[position] = {**layers[position], field: value}
    with pytest.raises(SpecError) as info:
        StackSpec(input_dim=8, encoder=layers)
    message = str(info.value)
    assert f"encoder[{position}].{field}" in message
    assert "Received:" in message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_shorthand_is_a_spec_or_a_spec_error(text):
    try:
        spec = StackSpec.parse(text)
    except SpecError as error:
        assert "Received" in str(error)
    else:
        assert StackSpec.parse(spec.to_shorthand()) == spec


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_yaml_is_a_spec_or_a_spec_error(text):
    with contextlib.suppress(SpecError):
        StackSpec.from_yaml_text(text)


def test_sigkill_mid_training_then_the_same_command_resumes_and_finishes(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((20000, 32)).astype("float32"))
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "stackae.cli",
        "train",
        "32-16:relu-8:relu|sigmoid",
        "--data",
        str(tmp_path / "x.npy"),
        "--out",
        str(out),
        "--epochs",
        "40",
        "--batch-size",
        "32",
        "--verbose",
        "0",
        "--seed",
        "0",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state = out / "checkpoints" / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline and not state.exists():
        time.sleep(0.2)
    assert state.exists(), "no checkpoint was written"
    time.sleep(0.5)  # mid-epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(state.read_text())["epoch"]
    assert 1 <= done < 40
    assert not (out / "metrics.json").exists()

    command[command.index("40")] = str(done + 2)  # same command, a short finish for the test
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"resuming after epoch {done}" in finished.stdout
    assert json.loads(state.read_text())["epoch"] == done + 2
    assert json.loads((out / "metrics.json").read_text())["test"]["mse_clean"] > 0
    stackae.load(out)
    assert not list(out.rglob("*.partial*"))


def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model(tmp_path / "lambda.keras")


def test_a_spec_file_cannot_name_code_to_import(tmp_path):
    # (YAML tags such as !!python/object are refused: tests/test_spec.py::test_spec_file_errors.)
    kinds = tmp_path / "kind.yaml"
    kinds.write_text("input_dim: 4\nencoder: [{units: 2, kind: 'os.system'}]\n")
    with pytest.raises(SpecError, match="Received: kind='os.system'"):
        StackSpec.from_yaml(kinds)
