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
