"""A scikit-learn estimator around stackae: ``fit`` trains, ``transform`` encodes.

It follows scikit-learn's conventions: ``__init__`` only stores its arguments, learned state ends
in ``_`` and is set in ``fit``, which returns ``self``; ``get_params``/``set_params``/``clone``
work, so it runs inside ``Pipeline`` and ``GridSearchCV`` (e.g. searching the code size).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["StackedAutoencoderTransformer"]


class StackedAutoencoderTransformer(TransformerMixin, BaseEstimator):
    """Stacked denoising autoencoder as a scikit-learn transformer.

    Args:
        encoder: Widths of the encoder layers; the last one is the code size.
        activation: Activation of every encoder layer.
        output_activation: Activation of the decoder's output.
        spec: A full spec (object, dict or shorthand) instead of ``encoder``/``activation``;
            its input width must match the data.
        epochs: Training epochs.
        batch_size: Samples per step.
        noise: Training noise (e.g. ``"gaussian:0.05"``) or ``None``.
        optimizer: Keras optimizer name.
        learning_rate: Learning rate, or ``None`` for the optimizer's default.
        loss: ``"mse"`` or ``"binary_crossentropy"``.
        seed: Seed for weights, shuffling and noise.
        verbose: Keras progress output.

    Example:
        >>> import numpy as np
        >>> from stackae.sklearn import StackedAutoencoderTransformer
        >>> x = np.random.default_rng(0).random((64, 8))
        >>> model = StackedAutoencoderTransformer(encoder=(4, 2), epochs=1, seed=0).fit(x)
        >>> model.transform(x).shape, model.inverse_transform(model.transform(x)).shape
        ((64, 2), (64, 8))
    """

    def __init__(
        self,
        encoder: tuple[int, ...] = (64, 16),
        activation: str = "relu",
        output_activation: str = "linear",
        spec: Any = None,
        epochs: int = 10,
        batch_size: int = 256,
        noise: Any = None,
        optimizer: str = "adam",
        learning_rate: float | None = None,
        loss: str = "mse",
        seed: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.encoder = encoder
        self.activation = activation
        self.output_activation = output_activation
        self.spec = spec
        self.epochs = epochs
        self.batch_size = batch_size
        self.noise = noise
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.seed = seed
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # Keras computes in float32
        return tags

    def _make_spec(self, width: int) -> Any:
        from stackae.spec import StackSpec

        if self.spec is not None:
            spec = (
                self.spec
                if isinstance(self.spec, StackSpec)
                else StackSpec.model_validate(self.spec)
            )
            if spec.resolved_input_shape != (width,):
                raise ValueError(
                    f"The spec's input shape {spec.resolved_input_shape} does not match the data's "
                    f"{width} features. Received: X with {width} features"
                )
            return spec
        return StackSpec(
            input_dim=width,
            encoder=[
                {"units": int(units), "activation": self.activation} for units in self.encoder
            ],
            output_activation=self.output_activation,
        )

    def fit(self, X: Any, y: Any = None) -> StackedAutoencoderTransformer:
        """Train on ``X`` (``y`` is ignored); returns ``self``."""
        from stackae.builder import build

        X = validate_data(self, X, dtype="float32")
        self.stack_ = build(self._make_spec(X.shape[1]), seed=self.seed)
        self.history_ = self.stack_.fit(
            X, epochs=self.epochs, batch_size=self.batch_size, noise=self.noise,
            optimizer=self.optimizer, learning_rate=self.learning_rate, loss=self.loss,
            seed=self.seed, verbose=self.verbose,
        )  # fmt: skip
        self.n_components_ = int(np.prod(self.stack_.spec.code_shape))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The codes of ``X``."""
        check_is_fitted(self, "stack_")
        X = validate_data(self, X, dtype="float32", reset=False)
        return self.stack_.encode(X).reshape(len(X), -1)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Reconstructions from codes."""
        check_is_fitted(self, "stack_")
        codes = np.asarray(X, dtype="float32").reshape((-1, *self.stack_.spec.code_shape))
        return self.stack_.decode(codes)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error (higher is better)."""
        check_is_fitted(self, "stack_")
        X = validate_data(self, X, dtype="float32", reset=False)
        return -float(np.mean((self.stack_.reconstruct(X) - X) ** 2))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``code0``, ``code1``, ... for each code value."""
        check_is_fitted(self, "stack_")
        return np.asarray([f"code{i}" for i in range(self.n_components_)], dtype=object)
