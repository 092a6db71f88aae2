"""Training: noisy -> clean, metrics, pretraining mechanics, checkpoint/resume, determinism."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stackae
from stackae.training import TrainingConfig, check_data


def test_fit_trains_noisy_to_clean_and_loss_goes_down(unit_data):
    stack = stackae.build("16-8:relu-4:relu|sigmoid", seed=0)
    history = stack.fit(
        unit_data,
        epochs=8,
        noise="gaussian:0.1",
        optimizer="adam",
        learning_rate=0.01,
        verbose=0,
        seed=0,
        batch_size=32,
    )
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert stack.history is history
    # sse is mse times the 16 values of each sample.
    assert history.history["sse"][-1] == pytest.approx(16 * history.history["mse"][-1], rel=1e-4)


def test_the_model_sees_noisy_input_but_is_scored_on_clean_targets(unit_data):
    """With the identity as model, the loss is exactly the noise's error against clean data."""
    stack = stackae.build("16-16:linear|linear", seed=0)
    layer = stack.autoencoder.get_layer("encoder_1")
    stack.autoencoder.get_layer("decoder_1").set_weights([np.eye(16), np.zeros(16)])
    layer.set_weights([np.eye(16), np.zeros(16)])
    x = np.full((512, 16), 0.5, dtype="float32")
    history = stack.fit(
        x,
        epochs=1,
        noise="masking:0.5",
        optimizer="sgd",
        learning_rate=1e-12,
        verbose=0,
        seed=0,
        batch_size=512,
    )
    # Half the values become 0 (error 0.25 each): mse ~ 0.125. Clean training would give 0.
    assert history.history["mse"][0] == pytest.approx(0.125, abs=0.01)


def test_noise_is_fresh_every_batch_inside_the_train_step():
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(logs["loss"]))

    stack = stackae.build("8-8:linear|linear", seed=0)
    for layer in (
        stack.autoencoder.get_layer("encoder_1"),
        stack.autoencoder.get_layer("decoder_1"),
    ):
        layer.set_weights([np.eye(8), np.zeros(8)])
    x = np.full((64, 8), 0.5, dtype="float32")
    # One batch per epoch, same data every time: only fresh noise makes the losses differ.
    stack.fit(
        x,
        epochs=4,
        batch_size=64,
        noise="gaussian:0.2",
        optimizer="sgd",
        learning_rate=1e-12,
        verbose=0,
        callbacks=[Record()],
        shuffle=False,
        steps_per_execution=1,
    )
    assert len(set(np.round(seen, 8))) == 4


def test_evaluate_reports_clean_and_noisy_errors(unit_data):
    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    stack.fit(unit_data, epochs=5, noise="gaussian:0.05", learning_rate=0.01, verbose=0, seed=0)
    metrics = stack.evaluate(unit_data, noise="salt_and_pepper:0.3", seed=0)
    reconstruction = stack.reconstruct(unit_data)
    assert metrics["mse_clean"] == pytest.approx(
        float(np.mean((reconstruction - unit_data) ** 2)), rel=1e-5
    )
    assert metrics["sse_clean"] == pytest.approx(16 * metrics["mse_clean"], rel=1e-5)
    noisy = stackae.parse_noise("salt_and_pepper:0.3").apply(unit_data, seed=0)
    expected = float(np.mean((stack.reconstruct(noisy) - unit_data) ** 2))
    assert metrics["mse_noisy"] == pytest.approx(expected, rel=1e-5)
    assert metrics["mse_noisy"] != pytest.approx(metrics["mse_clean"], rel=1e-3)


def test_same_seed_gives_the_same_weights(unit_data):
    def train():
        stack = stackae.build("16-8:relu-4:tanh|sigmoid", seed=1)
        stack.fit(unit_data, epochs=2, batch_size=32, noise="masking:0.2", verbose=0, seed=3)
        return stack.autoencoder.get_weights()

    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


def test_pretraining_mechanics(unit_data):
    stack = stackae.build("16-10:relu-6:relu-3:tanh|sigmoid", seed=0)
    original = stackae.training.keras.Model.fit
    calls = []

    def spy(self, *args, **kwargs):
        before = [w.copy() for w in stack.autoencoder.get_layer("encoder_1").get_weights()]
        result = original(self, *args, **kwargs)
        after = [w.copy() for w in stack.autoencoder.get_layer("encoder_1").get_weights()]
        calls.append((self.name, before, after))
        return result

    stackae.training.keras.Model.fit = spy
    try:
        initial = [w.copy() for w in stack.autoencoder.get_weights()]
        result = stack.pretrain(
            unit_data,
            epochs=[4, 4, 4],
            noise="masking:0.1",
            learning_rate=0.01,
            verbose=0,
            seed=0,
            fine_tune_epochs=2,
        )
    finally:
        stackae.training.keras.Model.fit = original
    assert [name for name, *_ in calls] == [
        "pretrain_stage_1",
        "pretrain_stage_2",
        "pretrain_stage_3",
        "denoising_trainer",
    ]
    # encoder_1 moves during its own phase only, not during the later layer-wise phases.
    assert not np.array_equal(calls[0][1][0], calls[0][2][0])
    for _, before, after in calls[1:3]:
        np.testing.assert_array_equal(before[0], after[0])
    for history in result["layers"]:
        assert history.history["loss"][-1] < history.history["loss"][0]
    assert result["fine_tune"] is not None
    # Every weight in the stack changed: the phases' weights are the stack's weights.
    for before, after in zip(initial, stack.autoencoder.get_weights()):
        assert not np.array_equal(before, after)


def test_pretraining_works_with_tied_weights(unit_data):
    spec = stackae.StackSpec(
        input_dim=16,
        encoder=[{"units": 8}, {"units": 4}],
        tied_weights=True,
        output_activation="sigmoid",
    )
    stack = stackae.build(spec, seed=0)
    result = stack.pretrain(unit_data, epochs=3, learning_rate=0.01, verbose=0, seed=0)
    assert all(h.history["loss"][-1] < h.history["loss"][0] for h in result["layers"])


def test_checkpoint_resume_finishes_with_the_same_epoch_count(unit_data, tmp_path):
    folder = tmp_path / "ckpt"
    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    stack.fit(unit_data, epochs=2, verbose=0, seed=0, checkpoint_dir=folder)
    state = (folder / "state.json").read_text()
    assert '"epoch": 2' in state
    saved = [w.copy() for w in stack.autoencoder.get_weights()]

    # A new process would rebuild the same spec and call fit again with more epochs.
    again = stackae.build("16-8:relu|sigmoid", seed=99)
    history = again.fit(unit_data, epochs=5, verbose=0, seed=0, checkpoint_dir=folder)
    assert history.epoch == [2, 3, 4]  # resumed after the last finished epoch
    assert '"epoch": 5' in (folder / "state.json").read_text()
    assert len(list(folder.glob("epoch-*.weights.h5"))) == 1

    # Restored weights, not fresh ones: resuming a finished run changes nothing.
    done = stackae.build("16-8:relu|sigmoid", seed=7)
    done.fit(unit_data, epochs=2, verbose=0, seed=0, checkpoint_dir=tmp_path / "other")
    fresh = stackae.build("16-8:relu|sigmoid", seed=123)
    history = fresh.fit(unit_data, epochs=2, verbose=0, checkpoint_dir=tmp_path / "other")
    assert history.epoch == []
    for a, b in zip(fresh.autoencoder.get_weights(), done.autoencoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert saved


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(
    unit_data, tmp_path
):
    stack = stackae.build("16-8:linear|linear", seed=0)
    folder = tmp_path / "ckpt"
    stack.fit(unit_data, epochs=1, verbose=0, seed=0, checkpoint_dir=folder, optimizer="sgd")
    good = (folder / "state.json").read_text()
    with pytest.raises(
        stackae.TrainingDivergedError, match=r"epoch 2.*learning_rate.*last good epoch"
    ):
        stack.fit(
            unit_data * 1e4,
            epochs=3,
            verbose=0,
            optimizer="sgd",
            learning_rate=1e3,
            checkpoint_dir=folder,
            batch_size=16,
            steps_per_execution=1,
        )
    assert (folder / "state.json").read_text() == good


@pytest.mark.parametrize(
    "data, fragment",
    [
        (np.full((4, 16), np.nan, dtype="float32"), r"NaN or infinite values \(first in row 0\)"),
        (np.array([[0.0] * 16, [np.inf] + [0.0] * 15], dtype="float32"), r"first in row 1"),
        (np.zeros((4, 15), dtype="float32"), r"per-sample shape \(15,\).*expects \(16,\)"),
        (np.zeros((4, 4, 4), dtype="float32"), r"must have shape \(samples, 16\)"),
        (np.arange(10), r"looks like labels"),
        (np.zeros((0, 16), dtype="float32"), r"is empty"),
        (np.array([["a"] * 16]), r"must hold real numbers.*dtype=<U1"),
        ((np.zeros((4, 16)), np.zeros(4)), r"\(x, y\) pair"),
        ("pixels", r"must be an array"),
    ],
)
def test_bad_data_is_refused_before_training(data, fragment):
    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    weights = [w.copy() for w in stack.autoencoder.get_weights()]
    with pytest.raises(stackae.DataError, match=fragment):
        stack.fit(data, epochs=1, verbose=0)
    for before, after in zip(weights, stack.autoencoder.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_values_outside_the_output_range_warn():
    with pytest.warns(UserWarning, match=r"ranges over \[0, 255\].*x / 255"):
        check_data(np.array([[0, 255]], dtype="uint8"), (2,), output_activation="sigmoid")


def test_training_config_validates_and_feeds_fit(unit_data):
    config = TrainingConfig(epochs=2, noise="gaussian:0.1", optimizer="SGD", seed=0)
    assert config.optimizer == "sgd" and config.noise.stddev == 0.1
    assert TrainingConfig.model_validate(config.model_dump(mode="json")) == config
    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    history = stack.fit(unit_data, verbose=0, **config.fit_kwargs())
    assert len(history.epoch) == 2
    with pytest.raises(stackae.SpecError, match=r"Unknown optimizer.*Received: optimizer='adamm'"):
        TrainingConfig(optimizer="adamm")
    with pytest.raises(stackae.SpecError, match=r"Received: epochs=0"):
        TrainingConfig(epochs=0)


def test_fit_accepts_tf_data_and_py_dataset(unit_data):
    import tensorflow as tf

    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    dataset = tf.data.Dataset.from_tensor_slices(unit_data).batch(64)
    history = stack.fit(dataset, epochs=2, verbose=0, noise="masking:0.1")
    assert len(history.history["loss"]) == 2

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return unit_data[index * 64 : (index + 1) * 64]

    history = stack.fit(Batches(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_memory_mapped_array_is_streamed_a_batch_at_a_time(tmp_path, rng, monkeypatch):
    path = tmp_path / "x.npy"
    np.save(path, (rng.random((600, 16)) * 255).astype("uint8"))
    x = np.load(path, mmap_mode="r")
    reads = []
    original = stackae.training.ArrayBatches.__getitem__

    def spy(self, index):
        batch = original(self, index)
        reads.append((len(batch[0]), batch[0].dtype))
        return batch

    monkeypatch.setattr(stackae.training.ArrayBatches, "__getitem__", spy)
    stack = stackae.build("16-8:relu|sigmoid", seed=0)
    with pytest.warns(UserWarning, match="outside"):  # 0..255 data under a sigmoid output
        history = stack.fit(
            x, epochs=3, batch_size=50, validation_split=0.2, optimizer="sgd", verbose=0, seed=0
        )
    # 480 training rows -> 10 batches per epoch, 120 validation rows -> 3; never the whole file.
    assert max(size for size, _ in reads) == 50
    assert {dtype for _, dtype in reads} == {np.dtype("float32")}
    # (Keras also reads a first batch once or twice to learn the shapes.)
    assert 3 * (10 + 3) <= len(reads) <= 3 * (10 + 3) + 6
    assert set(history.history) >= {"loss", "val_loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_memmap_batches_visit_every_row_once_per_epoch(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(23, dtype="float32").reshape(23, 1))
    batches = stackae.training.ArrayBatches(np.load(path, mmap_mode="r"), 5, seed=0)
    orders = []
    for _ in range(2):
        rows = np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])
        np.testing.assert_array_equal(np.sort(rows), np.arange(23))
        orders.append(rows.tolist())
        batches.on_epoch_end()
    assert orders[0] != orders[1]  # a new block order every epoch


def test_in_memory_batches_shuffle_rows_and_cover_the_split(rng):
    x = np.arange(30, dtype="float32").reshape(30, 1)
    batches = stackae.training.ArrayBatches(x, 4, seed=0, start=5, stop=27)
    rows = np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])
    assert len(batches) == 6
    np.testing.assert_array_equal(np.sort(rows), np.arange(5, 27))
    first = batches[0][0][:, 0]
    assert np.any(np.diff(np.sort(first)) > 1)  # rows, not a contiguous block


def test_arrays_reach_keras_once_not_as_input_and_identical_target(rng, monkeypatch):
    seen = []
    original = keras.Model.fit

    def spy(self, *args, **kwargs):
        seen.append((len(args), kwargs.get("y"), kwargs.get("validation_data")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    x = rng.random((128, 8), dtype="float32")
    val = rng.random((32, 8), dtype="float32")
    stack = stackae.build("8-4:relu|sigmoid", seed=0)
    history = stack.fit(x, epochs=2, validation_data=val, noise="masking:0.5", verbose=0, seed=0)
    assert len(seen) == 1 and seen[0][:2] == (1, None)  # x only: it is its own target
    assert seen[0][2] is val
    # Scored against the clean input: masking half the inputs cannot give a zero loss.
    assert history.history["loss"][-1] > 0.01
    assert np.isfinite(history.history["val_loss"]).all()


def test_evaluate_and_encode_read_a_memory_mapped_array_like_an_array(tmp_path, rng):
    data = rng.random((300, 16), dtype="float32")
    path = tmp_path / "x.npy"
    np.save(path, data)
    mapped = np.load(path, mmap_mode="r")
    stack = stackae.build("16-6:relu|sigmoid", seed=0)
    stack.fit(data, epochs=2, verbose=0, seed=0)
    np.testing.assert_allclose(stack.encode(mapped, batch_size=64), stack.encode(data), atol=1e-6)
    from_file, from_memory = stack.evaluate(mapped), stack.evaluate(data)
    assert from_file == pytest.approx(from_memory, rel=1e-6)
    # The unit check: sse is mse times the 16 values of a sample.
    assert from_memory["sse_clean"] == pytest.approx(16 * from_memory["mse_clean"])
