"""The spec: validation messages, mirroring, round trips, shorthand, presets. Builds no model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import stackae
from stackae import LayerSpec, SpecError, StackSpec

BOOK = "784-128:relu-64:tanh-32:relu|relu-sigmoid-relu"


def test_spec_basics_mirror_widths_and_activations():
    spec = StackSpec.parse("784-128:relu-64:tanh-32:relu")
    assert spec.layer_shapes == [(784,), (128,), (64,), (32,)]
    assert spec.code_shape == (32,)
    decoder = spec.decoder_layers
    assert [layer.units for layer in decoder] == [64, 128, 784]
    # The activation the encoder used to produce each width, then the output activation.
    assert [layer.activation for layer in decoder] == ["tanh", "relu", "linear"]


def test_mirror_copies_bias_initializer_and_penalties_but_not_dropout():
    spec = StackSpec(
        input_dim=10,
        encoder=[
            LayerSpec(
                units=6,
                use_bias=False,
                kernel_initializer="he_normal",
                kernel_l2=0.01,
                dropout=0.2,
                activity_l1=0.001,
            ),
            LayerSpec(units=3, activation="tanh"),
        ],
        output_activation="sigmoid",
    )
    output = spec.decoder_layers[-1]
    assert (output.units, output.activation, output.use_bias) == (10, "sigmoid", False)
    assert (output.kernel_initializer, output.kernel_l2) == ("he_normal", 0.01)
    assert (output.dropout, output.activity_l1) == (0.0, 0.0)


def test_book_preset_reproduces_the_non_mirrored_decoder():
    book = StackSpec.from_preset("skansi_book")
    assert [(d.units, d.activation) for d in book.decoder_layers] == [
        (64, "relu"),
        (128, "sigmoid"),
        (784, "relu"),
    ]
    assert book == StackSpec.parse(BOOK)
    assert book.to_shorthand() == BOOK


@pytest.mark.parametrize(
    "text",
    [
        "784-128:relu-64:tanh-32:relu",
        BOOK,
        "10-5:sigmoid|linear",
        "28x28x1-64:relu-8:tanh|sigmoid",
        "3-2:elu",
        "100-50:selu-20:gelu-5:linear",
    ],
)
def test_shorthand_round_trip(text):
    spec = StackSpec.parse(text)
    assert spec.to_shorthand() == text
    assert StackSpec.parse(spec.to_shorthand()) == spec
    assert StackSpec.from_yaml_text(spec.to_yaml()) == spec
    assert StackSpec.model_validate_json(spec.model_dump_json()) == spec


def test_shorthand_defaults_activation_to_relu_and_one_layer_override_is_canonical():
    assert StackSpec.parse("8-4").encoder[0].activation == "relu"
    one = StackSpec(input_dim=8, encoder=[{"units": 4}], decoder_activations=["tanh"])
    assert one.decoder_activations is None and one.output_activation == "tanh"
    assert StackSpec.parse(one.to_shorthand()) == one


def test_yaml_file_round_trip(tmp_path):
    spec = StackSpec(
        input_dim=20,
        encoder=[{"units": 8, "dropout": 0.1, "kernel_l1": 1e-4}],
        tied_weights=True,
        output_activation="sigmoid",
    )
    path = tmp_path / "spec.yaml"
    spec.to_yaml(path)
    assert StackSpec.from_yaml(path) == spec
    assert "tied_weights: true" in path.read_text()


def test_shorthand_refuses_what_it_cannot_write():
    spec = StackSpec(input_dim=20, encoder=[{"units": 8, "dropout": 0.1}])
    with pytest.raises(SpecError, match=r"encoder\[0\]\.dropout.*to_yaml"):
        spec.to_shorthand()


@pytest.mark.parametrize(
    "data, fragment",
    [
        (
            {"input_dim": 4, "encoder": [{"units": -3}]},
            r"encoder\[0\]\.units: `units` must be a positive integer\. Received: units=-3",
        ),
        ({"input_dim": 4, "encoder": [{"units": 2.5}]}, r"Received: units=2\.5"),
        ({"input_dim": 4, "encoder": [{"units": True}]}, r"Received: units=True"),
        (
            {"input_dim": 4, "encoder": [{"units": 2, "activation": "rleu"}]},
            r"Did you mean 'relu'\?.*Allowed: .*linear.*Received: activation='rleu'",
        ),
        ({"input_dim": 4, "encoder": []}, r"at least one layer.*Received: encoder=\[\]"),
        ({"encoder": [{"units": 2}]}, r"exactly one of `input_dim`.*Received: input_dim=None"),
        ({"input_dim": 4, "input_shape": [4], "encoder": [{"units": 2}]}, r"exactly one"),
        ({"input_dim": 0, "encoder": [{"units": 2}]}, r"Received: input_dim=0"),
        (
            {
                "input_dim": 4,
                "encoder": [{"units": 2}, {"units": 1}],
                "decoder_activations": ["relu"],
            },
            r"one activation per decoder layer.*2 for this encoder.*\(1 items\)",
        ),
        (
            {
                "input_dim": 4,
                "encoder": [{"units": 2}, {"units": 1}],
                "decoder_activations": ["relu", "tanh"],
                "output_activation": "sigmoid",
            },
            r"contradicts.*Received: output_activation='sigmoid'",
        ),
        ({"input_dim": 4, "encoder": [{"units": 2, "dropout": 1.0}]}, r"Received: dropout=1\.0"),
        ({"input_dim": 4, "encoder": [{"units": 2, "kernel_l2": -1}]}, r"Received: kernel_l2=-1"),
        (
            {"input_dim": 4, "encoder": [{"units": 2, "kernel_initializer": "glorot"}]},
            r"Received: kernel_initializer='glorot'",
        ),
        (
            {"input_dim": 4, "encoder": [{"units": 2, "kind": "lstm"}]},
            r"known kinds are: .*conv2d, dense.*Received: kind='lstm'",
        ),
        (
            {"input_dim": 4, "encoder": [{"units": 2, "options": {"kernel_size": 3}}]},
            r"encoder\[0\]\.options\.kernel_size: Extra inputs",
        ),
        (
            {
                "input_shape": [28, 28, 1],
                "encoder": [{"kind": "conv2d", "units": 4, "options": {"strides": 3}}],
            },
            r"not a multiple of the stride",
        ),
        (
            {"input_dim": 8, "encoder": [{"units": 4}, {"kind": "conv2d", "units": 3}]},
            r"needs a per-sample input of rank 3",
        ),
        (
            {
                "input_shape": [8, 8, 1],
                "encoder": [{"kind": "conv2d", "units": 2}],
                "tied_weights": True,
            },
            r"`conv2d` \(encoder\[0\]\) does not",
        ),
        (
            {"input_dim": 4, "encoder": [{"units": 2}], "colour": "red"},
            r"colour: Extra inputs are not permitted\. Received: colour='red'",
        ),
    ],
)
def test_spec_errors_name_field_and_received_value(data, fragment):
    with pytest.raises(SpecError, match=fragment) as info:
        StackSpec(**data)
    assert info.value.errors, "structured errors are kept"


@pytest.mark.parametrize("text", ["", "784", "784-", "abc-12", "784-12:re lu", "784-12:relu|"])
def test_bad_shorthand_is_a_spec_error(text):
    with pytest.raises(SpecError, match="Received"):
        StackSpec.parse(text)


def test_spec_file_errors(tmp_path):
    with pytest.raises(SpecError, match="No spec file"):
        StackSpec.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("input_dim: [unclosed")
    with pytest.raises(SpecError, match="not valid YAML"):
        StackSpec.from_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="must hold a mapping"):
        StackSpec.from_yaml(listing)
    code = tmp_path / "code.yaml"
    code.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        StackSpec.from_yaml(code)


def test_unknown_preset_lists_known_ones():
    with pytest.raises(SpecError, match="skansi_book.*Received: name='nope'"):
        StackSpec.from_preset("nope")


def test_spec_is_immutable():
    spec = StackSpec.parse("8-4")
    with pytest.raises(Exception, match="frozen"):
        spec.input_dim = 9  # type: ignore[misc]


def test_static_activation_list_matches_installed_keras():
    import keras

    names = {n for n in dir(keras.activations) if not n.startswith("_")}
    names -= {"get", "serialize", "deserialize", "threshold"}  # helpers; threshold needs args
    assert set(stackae.ACTIVATIONS) == names
    for name in stackae.INITIALIZERS:
        assert keras.initializers.get(name) is not None


def test_validating_a_spec_does_not_import_keras():
    code = (
        "import sys, stackae; s = stackae.StackSpec.parse('784-128:relu-32:relu|sigmoid');"
        "s.decoder_layers; s.to_yaml(); print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_json_schema_is_available_for_editors():
    schema = StackSpec.model_json_schema()
    assert "encoder" in schema["properties"]
    assert json.dumps(schema)
