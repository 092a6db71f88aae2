"""The builder: shapes, names, sharing, tied weights, kinds, save/load, via the shared helper."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import run_stack_test
from pydantic import BaseModel

import stackae
from stackae import StackSpec


def test_book_preset_matches_the_hand_written_book_model(tmp_path):
    stack = run_stack_test(StackSpec.from_preset("skansi_book"), tmp_path)
    # The book's model, written as in the book.
    inputs = keras.Input(shape=(784,))
    h = keras.layers.Dense(128, activation="relu")(inputs)
    h = keras.layers.Dense(64, activation="tanh")(h)
    h = keras.layers.Dense(32, activation="relu")(h)
    h = keras.layers.Dense(64, activation="relu")(h)
    h = keras.layers.Dense(128, activation="sigmoid")(h)
    book = keras.Model(inputs, keras.layers.Dense(784, activation="relu")(h))
    assert stack.count_params() == book.count_params() == 222_384
    ours = [(layer.units, layer.activation.__name__) for layer in stack.autoencoder.layers[1:]]
    theirs = [(layer.units, layer.activation.__name__) for layer in book.layers[1:]]
    assert ours == theirs
    assert [w.shape for w in stack.autoencoder.get_weights()] == [
        w.shape for w in book.get_weights()
    ]


def test_layer_names_and_order():
    stack = stackae.build("10-8:relu-6:relu-4:tanh", seed=0)
    assert [layer.name for layer in stack.encoder.layers[1:]] == [
        "encoder_1",
        "encoder_2",
        "encoder_3",
    ]
    assert [layer.name for layer in stack.decoder.layers[1:]] == [
        "decoder_1",
        "decoder_2",
        "decoder_3",
    ]
    assert [layer.units for layer in stack.decoder_layers] == [6, 8, 10]
    assert stack.stages[0].decoder_layer.name == "decoder_3"  # the output mirrors encoder_1


def test_training_the_autoencoder_changes_encoder_and_decoder(unit_data):
    stack = stackae.build("16-8:relu-4:relu|sigmoid", seed=0)
    before_codes = stack.encode(unit_data)
    before_out = stack.decode(before_codes)
    stack.fit(unit_data, epochs=1, verbose=0, seed=0)
    assert not np.allclose(stack.encode(unit_data), before_codes)
    assert not np.allclose(stack.decode(before_codes), before_out)


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (stackae.build("12-6:relu-3:tanh", seed=s) for s in (5, 5, 6))
    for wa, wb, wc in zip(
        a.autoencoder.get_weights(), b.autoencoder.get_weights(), c.autoencoder.get_weights()
    ):
        np.testing.assert_array_equal(wa, wb)
        if wa.ndim == 2:
            assert not np.array_equal(wa, wc)


def test_dense_options_reach_keras(tmp_path):
    spec = StackSpec(
        input_dim=12,
        encoder=[
            {
                "units": 8,
                "dropout": 0.25,
                "kernel_l2": 0.01,
                "use_bias": False,
                "kernel_initializer": "he_normal",
            },
            {"units": 4, "activation": "tanh", "activity_l1": 0.001},
        ],
        output_activation="sigmoid",
    )
    stack = run_stack_test(spec, tmp_path)
    names = [layer.name for layer in stack.autoencoder.layers]
    assert names[1:3] == ["encoder_1_dropout", "encoder_1"]
    first = stack.autoencoder.get_layer("encoder_1")
    assert first.use_bias is False and first.kernel_regularizer.l2 == pytest.approx(0.01)
    assert isinstance(first.kernel_initializer, keras.initializers.HeNormal)
    assert stack.autoencoder.get_layer("decoder_2").use_bias is False  # mirrored
    assert stack.autoencoder.get_layer("encoder_2").activity_regularizer.l1 == pytest.approx(0.001)
    assert stack.autoencoder.get_layer("decoder_1").activity_regularizer is None
    assert stack.autoencoder.get_layer("encoder_1_dropout").rate == 0.25


def test_tied_weights_share_one_kernel(tmp_path, unit_data):
    spec = StackSpec.parse("16-8:relu-4:tanh|sigmoid").model_copy(update={"tied_weights": True})
    spec = StackSpec.model_validate(spec.model_dump())
    stack = run_stack_test(spec, tmp_path)
    untied = stackae.build("16-8:relu-4:tanh|sigmoid")
    # Decoder kernels are gone: only biases remain (8 + 16).
    assert untied.count_params() - stack.count_params() == 8 * 4 + 16 * 8
    encoder_1 = stack.autoencoder.get_layer("encoder_1")
    output = stack.autoencoder.get_layer("decoder_2")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(output.effective_kernel),
        keras.ops.convert_to_numpy(encoder_1.kernel).T,
    )
    stack.fit(unit_data, epochs=2, verbose=0, seed=0)
    np.testing.assert_array_equal(  # still tied after training
        keras.ops.convert_to_numpy(output.effective_kernel),
        keras.ops.convert_to_numpy(encoder_1.kernel).T,
    )
    # Loaded from a .keras file the tie survives: one object, not two copies.
    stack.autoencoder.save(tmp_path / "tied.keras")
    restored = keras.models.load_model(tmp_path / "tied.keras")
    assert restored.get_layer("decoder_2").tied_to is restored.get_layer("encoder_1")


def test_conv2d_stack_with_dense_bottleneck(tmp_path):
    spec = StackSpec(
        input_shape=(8, 8, 1),
        encoder=[
            {"kind": "conv2d", "units": 4, "options": {"strides": 2}},
            {
                "kind": "conv2d",
                "units": 6,
                "options": {"kernel_size": 3, "strides": 1, "padding": "valid"},
            },
            {"units": 5, "activation": "tanh"},
        ],
        output_activation="sigmoid",
    )
    assert spec.layer_shapes == [(8, 8, 1), (4, 4, 4), (2, 2, 6), (5,)]
    stack = run_stack_test(spec, tmp_path)
    names = [layer.name for layer in stack.autoencoder.layers[1:]]
    assert names == [
        "encoder_1",
        "encoder_2",
        "encoder_3_flatten",
        "encoder_3",
        "decoder_1",
        "decoder_1_reshape",
        "decoder_2",
        "decoder_3",
    ]
    assert isinstance(stack.autoencoder.get_layer("decoder_3"), keras.layers.Conv2DTranspose)
    assert stack.autoencoder.get_layer("decoder_1").units == 24


def test_dense_stack_on_image_input_flattens_and_reshapes(tmp_path):
    stack = run_stack_test(StackSpec.parse("6x6x1-8:relu|sigmoid"), tmp_path)
    assert stack.autoencoder.output_shape == (None, 6, 6, 1)


class _NoOptions(BaseModel):
    pass


def test_user_kind_from_yaml(tmp_path):
    kind = stackae.LayerKind(
        name="test_biasless",
        options=_NoOptions,
        input_rank=1,
        output_shape=lambda shape, layer: (layer.units,),
        build_encoder=lambda layer, **kw: keras.layers.Dense(
            layer.units, **{**kw, "use_bias": False}
        ),
        build_decoder=lambda layer, shape, **kw: keras.layers.Dense(
            shape[-1], **{**kw, "use_bias": False}
        ),
    )
    stackae.register_layer_kind(kind, overwrite=True)
    spec = StackSpec.from_yaml_text(
        "input_dim: 6\nencoder:\n  - {kind: test_biasless, units: 3, activation: tanh}\n"
    )
    stack = stackae.build(spec)
    assert stack.count_params() == 6 * 3 * 2
    with pytest.raises(ValueError, match="already registered"):
        stackae.register_layer_kind(kind)
    with pytest.raises(stackae.SpecError, match="tied_weights"):
        StackSpec(input_dim=6, encoder=[{"kind": "test_biasless", "units": 3}], tied_weights=True)


def test_build_rejects_bad_spec_before_keras_work():
    with pytest.raises(stackae.SpecError, match="Received: units=0"):
        stackae.build({"input_dim": 4, "encoder": [{"units": 0}]})
