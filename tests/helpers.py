"""The one helper every architecture test uses: spec -> build -> forward -> save -> load -> same.

Like KerasHub's ``run_backbone_test``: it checks the config round trip, an eager call,
``predict``, output shapes, that the three models share layers, and that both stackae's own save
format and each model's ``.keras`` file load back to identical outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

import stackae


def run_stack_test(
    spec: stackae.StackSpec, tmp_path: Path, *, seed: int = 0
) -> stackae.StackedAutoencoder:
    # Config round trip: dict, JSON and YAML all give the same spec, and the same sorted JSON.
    assert stackae.StackSpec.from_dict(spec.to_dict()) == spec
    assert stackae.StackSpec.from_json(spec.to_json()) == spec
    assert stackae.StackSpec.from_yaml_text(spec.to_yaml()) == spec
    again = stackae.StackSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(spec.to_dict(), sort_keys=True)

    stack = stackae.build(spec, seed=seed)
    batch = 5
    x = np.random.default_rng(seed).random((batch, *spec.resolved_input_shape)).astype("float32")

    # Shapes of the three models and of an eager call.
    assert stack.encoder.output_shape == (None, *spec.code_shape)
    assert stack.decoder.input_shape == (None, *spec.code_shape)
    assert stack.autoencoder.output_shape == (None, *spec.resolved_input_shape)
    eager = keras.ops.convert_to_numpy(stack.autoencoder(x))
    assert eager.shape == x.shape
    np.testing.assert_allclose(stack.reconstruct(x), eager, rtol=1e-5, atol=1e-6)
    # decode(encode(x)) is the autoencoder: the models share their layers.
    np.testing.assert_allclose(stack.decode(stack.encode(x)), eager, rtol=1e-5, atol=1e-6)
    shared = {id(layer) for layer in stack.autoencoder.layers}
    for model in (stack.encoder, stack.decoder):
        for layer in model.layers:
            if not isinstance(layer, keras.layers.InputLayer):
                assert id(layer) in shared, layer.name

    # stackae's own format.
    loaded = stackae.load(stack.save(tmp_path / "stack"))
    assert loaded.spec == spec
    np.testing.assert_array_equal(loaded.reconstruct(x), stack.reconstruct(x))

    # Each model as a .keras file, loaded by Keras alone (safe_mode on).
    codes = stack.encode(x)
    for name, model, data in (
        ("encoder", stack.encoder, x),
        ("decoder", stack.decoder, codes),
        ("autoencoder", stack.autoencoder, x),
    ):
        path = tmp_path / f"{name}.keras"
        model.save(path)
        restored = keras.models.load_model(path)
        np.testing.assert_allclose(
            restored.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6, atol=1e-6
        )
    return stack
