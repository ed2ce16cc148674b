"""Model intake: what inspect_model reads from real TensorFlow-made models, contract messages, and
every kind of bad file refused with a message (opened only in the sandbox)."""

import time

import pytest

from evaluation.tflite import Contract, ModelRejected, inspect_model, validate_against_contract


def test_float_model_is_described(tflite_models):
    info = inspect_model(tflite_models["conv_float"].read_bytes())
    assert info.kind == "float32"
    assert info.size_bytes == tflite_models["conv_float"].stat().st_size
    (tensor,) = info.inputs
    assert (tensor.shape, tensor.dtype, tensor.quantized) == ([1, 32, 32, 3], "float32", False)
    assert info.outputs[0].shape == [1, 32, 32, 3]
    assert info.operators == {"CONV_2D": 2, "LOGISTIC": 1, "MUL": 1}


def test_int8_model_has_quantisation_of_its_uint8_input(tflite_models):
    info = inspect_model(tflite_models["classifier_int8"].read_bytes())
    assert info.kind == "full-integer" and info.is_full_integer
    (tensor,) = info.inputs
    assert tensor.dtype == "uint8" and tensor.shape == [1, 32, 32, 3]
    # Representative data in [0, 255]: scale ~1, zero point 0, so the input covers 0..255.
    assert tensor.scale == pytest.approx(1.0, rel=0.01) and tensor.zero_point == 0
    assert info.outputs[0].dtype == "uint8" and info.outputs[0].shape == [1, 30]
    assert info.operators["FULLY_CONNECTED"] == 1 and info.operators["SOFTMAX"] == 1


def test_dynamic_model_keeps_its_signature(tflite_models):
    info = inspect_model(tflite_models["conv_dynamic"].read_bytes())
    assert info.has_dynamic_inputs
    assert info.inputs[0].shape_signature == [1, -1, -1, 3]
    assert info.inputs[0].describe() == "float32 1×?×?×3"


def test_contract_messages_name_the_tensor_and_what_the_track_expects(tflite_models):
    info = inspect_model(tflite_models["conv_float"].read_bytes())
    contract = Contract.from_dict(
        {
            "inputs": [{"shape": [1, 32, 32, 3], "dtype": "uint8"}],
            "int8_required": True,
            "guide_url": "https://example.org/guide",
        }
    )
    messages = validate_against_contract(info, contract)
    assert messages[0] == (
        "Input 0 is float32 1×32×32×3; this track expects uint8 1×32×32×3, see the "
        "conversion guide (https://example.org/guide)."
    )
    assert messages[1].startswith("This track requires a full-integer INT8 model; yours is float32.")
    assert len(messages) == 2


def test_int8_model_fits_an_int8_contract_and_dynamic_fits_any_size(tflite_models):
    int8 = inspect_model(tflite_models["conv_int8"].read_bytes())
    contract = {
        "inputs": [{"shape": [1, 32, 32, 3], "dtype": "uint8"}],
        "outputs": [{"shape": [1, 32, 32, 3], "dtype": "uint8"}],
        "input_range": [0, 255],
        "int8_required": True,
    }
    assert validate_against_contract(int8, contract) == []
    dynamic = inspect_model(tflite_models["conv_dynamic"].read_bytes())
    assert (
        validate_against_contract(dynamic, {"inputs": [{"shape": [1, 720, 1280, 3], "dtype": "float32"}]})
        == []
    )
    fixed_only = {"inputs": [{"shape": [1, 720, 1280, 3], "dtype": "float32"}], "allow_dynamic": False}
    assert validate_against_contract(dynamic, fixed_only) == [
        "Input 0 is float32 1×?×?×3; this track expects float32 1×720×1280×3. Export it with input shape "
        "[1, 720, 1280, 3]: keras.Input(shape=(720, 1280, 3), batch_size=1) before converting, or "
        "model.export(path, input_signature=[tf.TensorSpec([1, 720, 1280, 3], tf.float32)]) then "
        "tf.lite.TFLiteConverter.from_saved_model(path); see the conversion guide "
        "(https://ai.google.dev/edge/litert/models/convert)."
    ]


def test_value_range_of_quantised_input_is_checked(tflite_models):
    info = inspect_model(tflite_models["conv_int8"].read_bytes())
    messages = validate_against_contract(info, {"input_range": [-1000, 1000]})
    assert len(messages) == 1
    assert "only covers values 0 to 25" in messages[0] and "from -1000 to 1000" in messages[0]


def test_wrong_number_of_outputs(tflite_models):
    info = inspect_model(tflite_models["conv_float"].read_bytes())
    messages = validate_against_contract(info, {"outputs": [{"shape": None}, {"shape": None}]})
    assert messages == ["The model has 1 output(s); this track expects 2."]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("random", "This is not a TensorFlow Lite model"),
        ("truncated", "LiteRT cannot load this model"),
        ("custom_op", "The model uses the operator “MaiSecretOp”, which LiteRT does not provide."),
        (
            "huge_input",
            "Input 0 is float32 1×30000×30000×3, which needs 10.1 GB of memory for that tensor alone",
        ),
    ],
)
def test_bad_files_are_refused_with_a_message(bad_models, name, expected):
    started = time.monotonic()
    with pytest.raises(ModelRejected) as excinfo:
        inspect_model(bad_models[name].read_bytes())
    assert expected in excinfo.value.message
    # The 10 GB input is refused from its shape, never allocated (allocation alone takes ~40 s).
    assert time.monotonic() - started < 10


def test_empty_file_is_refused():
    with pytest.raises(ModelRejected, match="empty or far too small"):
        inspect_model(b"")


def test_resized_dynamic_input_beyond_the_limit_is_refused(tflite_models):
    with pytest.raises(ModelRejected, match=r"Input 0 is float32 1×40000×40000×3"):
        inspect_model(tflite_models["conv_dynamic"].read_bytes(), input_shapes={0: [1, 40000, 40000, 3]})
