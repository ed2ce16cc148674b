"""Real .tflite models made by TensorFlow for the tests, built once per test session.

`build_test_models(folder)` writes, and returns the paths of:
- `conv_float`: a small float32 conv net, input 1×32×32×3 in [0, 255], output 1×32×32×3;
- `conv_int8`: the same, full-integer INT8 with uint8 input and output;
- `conv_dynamic`: float32 with a dynamic input (None×None spatial dims), as MAI teams shipped for
  full-resolution fidelity runs;
- `classifier_int8`: 1×32×32×3 uint8 → 30 class scores (uint8), like camera scene detection.
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def convert_keras(model, *, int8: bool = False, sample_shape=(1, 32, 32, 3)) -> bytes:
    """A Keras model → .tflite bytes: float, or full-integer INT8 with uint8 input and output."""
    import numpy as np
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        rng = np.random.default_rng(0)

        def representative():
            for _ in range(8):
                yield [rng.uniform(0, 255, size=sample_shape).astype("float32")]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    return converter.convert()


def build_test_models(folder: Path) -> dict[str, Path]:
    import keras

    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)

    def conv_net(shape):
        inputs = keras.Input(shape=shape, batch_size=1)
        x = keras.layers.Rescaling(1 / 255.0)(inputs)
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(3, 3, padding="same")(x)
        outputs = keras.layers.Rescaling(255.0)(keras.layers.Activation("sigmoid")(x))
        return keras.Model(inputs, outputs)

    def classifier():
        inputs = keras.Input(shape=(32, 32, 3), batch_size=1)
        x = keras.layers.Rescaling(1 / 255.0)(inputs)
        x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        outputs = keras.layers.Dense(30, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    fixed = conv_net((32, 32, 3))
    paths = {
        "conv_float": convert_keras(fixed),
        "conv_int8": convert_keras(fixed, int8=True),
        "conv_dynamic": convert_keras(conv_net((None, None, 3))),
        "classifier_int8": convert_keras(classifier(), int8=True),
    }
    out = {}
    for name, content in paths.items():
        path = folder / f"{name}.tflite"
        path.write_bytes(content)
        out[name] = path
    return out


# --- The intake corpus: real and broken models, each with the verdict intake must reach -------------

# The MAI 2021 contracts (challenges/seed.py): input shape and dtype, output shape, up-scaling factor.
MAI_CONTRACTS = {
    "learned_isp": ([1, 544, 960, 4], "float32", [1, 1088, 1920, 3], 2),
    "image_denoising": ([1, 480, 720, 3], "float32", [1, 480, 720, 3], 1),
    "quantized_sr": ([1, 360, 640, 3], "uint8", [1, 1080, 1920, 3], 3),
    "video_sr": ([1, 180, 320, 3], "float32", [1, 720, 1280, 3], 4),
    "depth_estimation": ([1, 480, 640, 3], "float32", [1, 480, 640, 1], 1),
    "scene_detection": ([1, 576, 384, 3], "uint8", [1, 30], 0),
}


def mai_dynamic_model(track: str):
    """A tiny Keras model with `None` height and width for a MAI track, shaped like the teams' models:
    an encoder-decoder (a 2×2 max-pool, so it cannot run at the 1×1 placeholder LiteRT stores) with the
    track's up-scaling, or a classifier for scene detection."""
    import keras
    import tensorflow as tf

    in_shape, _, out_shape, scale = MAI_CONTRACTS[track]
    inputs = keras.Input(shape=(None, None, in_shape[3]), batch_size=1)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    if scale == 0:
        x = keras.layers.GlobalAveragePooling2D()(x)
        outputs = keras.layers.Dense(out_shape[1], activation="softmax")(x)
        return keras.Model(inputs, outputs)
    # Pixel shuffle (DEPTH_TO_SPACE), as the SR and ISP teams up-scaled.
    x = keras.layers.Conv2D(out_shape[3] * (2 * scale) ** 2, 3, padding="same")(x)
    x = keras.layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2 * scale))(x)
    outputs = keras.layers.Rescaling(255.0)(keras.layers.Activation("sigmoid")(x))
    return keras.Model(inputs, outputs)


def deep_mai_model(layers: int = 80, channels: int = 4):
    """`layers` 3×3 convolutions at full MAI denoising resolution, float32 1×480×720×3 in and out: its
    tensors add up to hundreds of MB, but only a few are alive at once."""
    import keras

    inputs = keras.Input(shape=(480, 720, 3), batch_size=1)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    for _ in range(layers - 1):
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same")(x)
    return keras.Model(inputs, outputs)


def keras_default_conv():
    """A small conv net exported the Keras default way: no batch size, so the input is −1×32×32×3."""
    import keras

    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same")(x)
    return keras.Model(inputs, outputs)


def mangle_intermediate_name(source: bytes) -> bytes:
    """The model with one intermediate tensor renamed to bytes that are not UTF-8 (LiteRT runs it)."""
    from ai_edge_litert.tools import flatbuffer_utils as fu

    model = fu.read_model_from_bytearray(bytearray(source))
    graph = model.subgraphs[0]
    ends = set(graph.inputs) | set(graph.outputs)
    index = next(i for op in graph.operators for i in op.outputs if i not in ends)
    graph.tensors[index].name = b"conv\xff\xfe\xc3(name"
    return bytes(fu.convert_object_to_bytearray(model))


def add_unused_huge_tensor(source: bytes) -> bytes:
    """The model with one more tensor, float32 1×60000×60000×300 (3.9 TB), that no operator uses: LiteRT
    never allocates it and runs the model."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fu

    model = fu.read_model_from_bytearray(bytearray(source))
    tensor = schema.TensorT()
    tensor.shape = np.array([1, 60000, 60000, 300], dtype=np.int32)
    tensor.type = schema.TensorType.FLOAT32
    tensor.name = b"unused"
    tensor.buffer = 0
    model.subgraphs[0].tensors.append(tensor)
    return bytes(fu.convert_object_to_bytearray(model))


def flip_bits(source: bytes, *, start: int, end: int, count: int, seed: int) -> bytes:
    """`count` single-bit flips at random positions in [start, end)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    data = bytearray(source)
    for position in rng.integers(start, end, size=count):
        data[int(position)] ^= 1 << int(rng.integers(0, 8))
    return bytes(data)


def largest_buffer_span(source: bytes) -> tuple[int, int]:
    """Where the largest weight buffer's bytes lie in the file (flipping bits there changes weights)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(source, 0)
    best = max(range(model.BuffersLength()), key=lambda i: model.Buffers(i).DataLength())
    data = model.Buffers(best).DataAsNumpy()
    start = source.find(data.tobytes())
    return start, start + len(data)


def build_corpus(folder: Path, base: dict[str, Path]) -> dict[str, Path]:
    """Every file of the intake corpus (see CORPUS in tests/evaluation/test_model_corpus.py), written
    to `folder`; `base` are the session's `build_test_models` files."""
    import keras
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    made: dict[str, bytes] = {}
    made["keras_default_float"] = convert_keras(keras_default_conv())
    made["keras_default_int8"] = convert_keras(keras_default_conv(), int8=True)
    for track, (in_shape, dtype, _, _) in MAI_CONTRACTS.items():
        sample = (1, 16, 24, in_shape[3])
        made[f"dynamic_{track}"] = convert_keras(
            mai_dynamic_model(track), int8=dtype == "uint8", sample_shape=sample
        )
    made["deep_480x720"] = convert_keras(deep_mai_model(), sample_shape=(1, 480, 720, 3))
    inputs = keras.Input(shape=(None, None, 3), batch_size=1)
    mobilenet = keras.applications.MobileNetV2(
        weights=None, input_shape=(None, None, 3), alpha=0.35, include_top=False, pooling="avg"
    )
    outputs = keras.layers.Dense(30, activation="softmax")(mobilenet(inputs))
    made["mobilenet_v2_dynamic"] = convert_keras(keras.Model(inputs, outputs))
    source = base["conv_float"].read_bytes()
    made["mangled_names"] = mangle_intermediate_name(source)
    made["unused_huge_tensor"] = add_unused_huge_tensor(source)
    start, end = largest_buffer_span(source)
    made["bitflip_weights"] = flip_bits(source, start=start, end=end, count=16, seed=3)
    made["bitflip_tables"] = flip_bits(source, start=8, end=200, count=24, seed=5)
    made["truncated_tail"] = source[: len(source) - 100]
    made["zero_filled"] = bytes(len(source))
    made["zeroed_after_header"] = source[:8] + bytes(len(source) - 8)
    made["random_bytes"] = np.random.default_rng(7).bytes(len(source))
    out = {}
    for name, content in made.items():
        path = folder / f"{name}.tflite"
        path.write_bytes(content)
        out[name] = path
    return out
