"""stackae: declarative stacked (denoising) autoencoders on Keras 3.

Importing stackae is cheap: the spec, noise and kinds modules never import Keras, and the names
that need Keras (``build``, ``load``, ``first_widening_kernel``, ...) load it on first use.

Example:
    >>> import stackae
    >>> spec = stackae.StackSpec.parse("784-128:relu-64:tanh-32:relu|sigmoid")
    >>> stack = stackae.build(spec, seed=0)
    >>> stack.autoencoder.output_shape
    (None, 784)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stackae.config import TrainingConfig
from stackae.errors import DataError, SpecError, TrainingDivergedError
from stackae.kinds import LayerKind, get_layer_kind, layer_kinds, register_layer_kind
from stackae.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise, parse_noise
from stackae.spec import ACTIVATIONS, INITIALIZERS, PRESETS, LayerSpec, StackSpec

__version__ = "0.1.0"

# name -> module for what needs Keras: imported on first attribute access (PEP 562).
_LAZY = {
    "build": "stackae.builder",
    "StackedAutoencoder": "stackae.builder",
    "first_widening_layer": "stackae.inspect",
    "first_widening_kernel": "stackae.inspect",
    "weight_matrices": "stackae.inspect",
    "TiedDense": "stackae.layers",
    "Corruption": "stackae.layers",
    "fit": "stackae.training",
    "pretrain": "stackae.training",
    "evaluate": "stackae.training",
    "save": "stackae.io",
    "load": "stackae.io",
}

__all__ = [
    "__version__",
    "ACTIVATIONS",
    "INITIALIZERS",
    "DataError",
    "GaussianNoise",
    "LayerKind",
    "LayerSpec",
    "MaskingNoise",
    "PRESETS",
    "SaltAndPepperNoise",
    "SpecError",
    "StackSpec",
    "TrainingConfig",
    "TrainingDivergedError",
    "get_layer_kind",
    "layer_kinds",
    "parse_noise",
    "register_layer_kind",
    *sorted(_LAZY),
]

if TYPE_CHECKING:
    from stackae.builder import StackedAutoencoder, build
    from stackae.inspect import first_widening_kernel, first_widening_layer, weight_matrices
    from stackae.io import load, save
    from stackae.layers import Corruption, TiedDense
    from stackae.training import evaluate, fit, pretrain


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stackae' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
