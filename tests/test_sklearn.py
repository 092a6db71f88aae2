"""The scikit-learn estimator: contract checks, Pipeline and GridSearchCV."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from stackae.sklearn import StackedAutoencoderTransformer

# Checks expected to fail, with the reason: none. (scikit-learn itself skips the array-API check
# unless SCIPY_ARRAY_API is set.)
EXPECTED_FAILED: dict[str, str] = {}


@pytest.mark.slow
@parametrize_with_checks(
    [StackedAutoencoderTransformer(encoder=(3, 2), epochs=1, batch_size=16, seed=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED,
)
def test_scikit_learn_contract(estimator, check):
    check(estimator)


def test_pipeline_grid_search_over_code_size(unit_data):
    pipeline = make_pipeline(
        MinMaxScaler(),
        StackedAutoencoderTransformer(
            encoder=(8, 2),
            activation="tanh",
            epochs=20,
            batch_size=32,
            seed=0,
            learning_rate=0.01,
            output_activation="sigmoid",
        ),
    )
    search = GridSearchCV(
        pipeline, {"stackedautoencodertransformer__encoder": [(8, 1), (8, 4)]}, cv=2
    )
    search.fit(unit_data)
    assert search.best_params_["stackedautoencodertransformer__encoder"] == (8, 4)
    assert search.transform(unit_data).shape == (256, 4)


def test_params_clone_and_round_trip(unit_data):
    model = StackedAutoencoderTransformer(encoder=(6, 3), epochs=2, seed=0, noise="masking:0.1")
    assert clone(model).get_params() == model.get_params()
    model.fit(unit_data)
    codes = model.transform(unit_data)
    assert codes.shape == (256, 3)
    assert model.inverse_transform(codes).shape == unit_data.shape
    assert model.score(unit_data) == pytest.approx(
        -float(np.mean((model.stack_.reconstruct(unit_data) - unit_data) ** 2)), rel=1e-5
    )
    with pytest.raises(ValueError, match="does not match the data's 16 features"):
        StackedAutoencoderTransformer(spec="8-4").fit(unit_data)
