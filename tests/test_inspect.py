"""The widening-matrix locator, on every case where the book's index trick breaks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stackae
from stackae import StackSpec, first_widening_kernel, first_widening_layer


def _book_model(encoder_bias: bool = True, extra: bool = False) -> keras.Model:
    inputs = keras.Input(shape=(784,))
    h = inputs
    for index, (units, activation) in enumerate(
        ((128, "relu"), (64, "tanh"), (32, "relu"), (64, "relu"), (128, "sigmoid"), (784, "relu"))
    ):
        if extra:
            h = keras.layers.Dropout(0.1)(h)
            h = keras.layers.BatchNormalization()(h)
        use_bias = encoder_bias or index >= 3
        h = keras.layers.Dense(units, activation=activation, use_bias=use_bias)(h)
    return keras.Model(inputs, h, name="book")


def test_book_model_and_the_book_index_agree():
    model = _book_model()
    weights = model.get_weights()
    book_answer = weights[int(len(weights) / 2)]  # the book's trick
    assert book_answer.shape == (32, 64)
    np.testing.assert_array_equal(first_widening_kernel(model), book_answer)


def test_biasless_encoder_where_the_index_trick_fails():
    model = _book_model(encoder_bias=False)
    weights = model.get_weights()
    assert weights[int(len(weights) / 2)].shape != (32, 64)  # the trick is now wrong
    kernel = first_widening_kernel(model)
    assert kernel.shape == (32, 64)
    np.testing.assert_array_equal(kernel, keras.ops.convert_to_numpy(model.layers[4].kernel))


def test_dropout_and_batch_normalization_in_between():
    model = _book_model(extra=True)
    weights = model.get_weights()
    assert weights[int(len(weights) / 2)].shape != (32, 64)  # the trick is wrong here too
    assert first_widening_kernel(model).shape == (32, 64)
    assert isinstance(first_widening_layer(model), keras.layers.Dense)


def test_asymmetric_stack():
    stack = stackae.build(
        StackSpec(input_dim=50, encoder=[{"units": 40}, {"units": 30}, {"units": 20}, {"units": 5}])
    )
    assert first_widening_layer(stack).name == "decoder_1"
    assert first_widening_kernel(stack).shape == (5, 20)


def test_tied_stack_uses_the_transposed_matrix():
    stack = stackae.build(
        StackSpec(input_dim=10, encoder=[{"units": 6}, {"units": 3}], tied_weights=True)
    )
    layer = first_widening_layer(stack)
    assert layer.name == "decoder_1"
    np.testing.assert_array_equal(
        first_widening_kernel(stack),
        keras.ops.convert_to_numpy(stack.autoencoder.get_layer("encoder_2").kernel).T,
    )


def test_nested_models_are_searched_in_order():
    stack = stackae.build("12-6-3", seed=0)
    inputs = keras.Input(shape=(12,))
    nested = keras.Model(inputs, stack.decoder(stack.encoder(inputs)), name="nested")
    assert first_widening_layer(nested).name == "decoder_1"


def test_model_that_never_widens_names_the_model():
    inputs = keras.Input(shape=(8,))
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Dense(6)(inputs)), name="funnel")
    with pytest.raises(ValueError, match=r"No 2-D kernel in model 'funnel' widens.*\(8, 6\)"):
        first_widening_kernel(model)


def test_convolutions_are_skipped():
    stack = stackae.build(
        StackSpec(input_shape=(4, 4, 1), encoder=[{"kind": "conv2d", "units": 8}, {"units": 3}])
    )
    # The conv kernels are 4-D: the first 2-D widening matrix is the dense mirror.
    assert first_widening_kernel(stack).shape == (3, 128)


def test_rejects_non_models():
    with pytest.raises(TypeError, match="Received: model=list"):
        first_widening_layer([1, 2])
