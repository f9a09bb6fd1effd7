"""What several test modules share: paths, tiny image files, toy batches, and the layer contract."""

import copy
import os
import pathlib

import keras
import numpy as np
import tensorflow as tf

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_FACES = ROOT.parent / "shared" / "data" / "anime-faces-64.zip"

# the tiny trainers of the `make_gan` fixture: 16×16 images, z of 8, width 4
IMAGE_SIZE, LATENT_DIM, WIDTH = 16, 8, 4


def write_png(path, image):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(np.asarray(image, np.uint8)).numpy())
    return path


def toy_batches(batch_size=8, num_images=32, seed=0, **options):
    """One epoch of toy-face batches at the tiny trainers' size (options: critic_batches, repeat, ...)."""
    import kgan

    return kgan.datasets.make_toy_dataset(batch_size, num_images=num_images, image_size=IMAGE_SIZE, seed=seed, **options)


def subprocess_env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def normal(shape, seed=0, scale=1.0, dtype="float32"):
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype(dtype)


def run_layer_test(
    make_layer, input_shape, expected_config=None, prepare=None, batch_sizes=(2, 6), tmp_path=None, dtype_policy=None,
    num_classes=None,
):
    """The contract every kgan layer keeps, in the spirit of Keras' `run_layer_test`.

    Args:
        make_layer: returns a fresh layer.
        input_shape: one sample's shape (no batch axis).
        expected_config: settings the layer's config must keep through `get_config` / `from_config`.
        prepare: `fn(layer, sample_batch)` that moves the layer's state off its initial values, so
            that the comparisons see all of it (a fresh γ = 0 or an unused `u` would hide a path).
        batch_sizes: two batch sizes the layer accepts, for the SavedModel check.
        tmp_path: a folder for the `.keras` file and the SavedModel.
        dtype_policy: a global dtype policy ("mixed_float16", "mixed_bfloat16") to run the whole
            contract under; the previous global policy is restored afterwards.
        num_classes: for a class-conditional layer, called on `[x, labels]`: K, and every call
            (the model's, `prepare`'s sample batch, the SavedModel's `serve(images, labels)`) gets
            int32 labels of shape (batch,) drawn in [0, K) besides x, through a second model input
            named "labels". None (the default): the layer takes x alone.

    Checks: (1) the config round trip gives an equal config, the expected settings and, with the same
    weights, the same outputs; (2) a model holding the layer round-trips through a `.keras` file with
    every weight and its outputs; (3) a SavedModel of that model serves both batch sizes with the
    same outputs (≤ 1e-5, in any policy: the same ops in the same dtype); (4) two
    compiled training steps of a model with a Dense head, in training mode, give finite losses and
    finite gradients and change every trainable weight of the layer (of the model, when the layer
    has none). Every output is finite and in the layer's compute dtype, and every variable in its
    policy's variable dtype: float32 under "mixed_float16" / "mixed_bfloat16", which compute in
    16 bits and store in 32.

    Returns the layer trained in (4) and its weights' values before training, by path, for checks
    of state only the layer knows (spectral norm's `u`).
    """
    previous_policy = keras.config.dtype_policy()
    if dtype_policy is not None:
        keras.config.set_dtype_policy(dtype_policy)
    try:
        return _run_layer_contract(make_layer, input_shape, expected_config, prepare, batch_sizes, tmp_path, num_classes)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _conditional_inputs(input_shape, num_classes):
    """`(sample(size, seed), keras_inputs())`: x alone, or `[x, labels]` with labels int32 (size,) in [0, num_classes)."""

    def sample(size, seed):
        x = normal((size, *input_shape), seed=seed)
        if num_classes is None:
            return x
        return [x, np.random.default_rng(seed).integers(0, num_classes, size=size).astype("int32")]

    def keras_inputs():
        if num_classes is None:
            return keras.Input(input_shape)
        return [keras.Input(input_shape), keras.Input((), dtype="int32", name="labels")]

    return sample, keras_inputs


def _run_layer_contract(make_layer, input_shape, expected_config, prepare, batch_sizes, tmp_path, num_classes):
    batch = batch_sizes[-1]
    sample, keras_inputs = _conditional_inputs(input_shape, num_classes)
    x = sample(batch, seed=1)  # x, or [x, labels] for a conditional layer
    policy = keras.config.dtype_policy()  # what a layer built without `dtype` gets

    def values(outputs):
        """The outputs as a float32 numpy array (numpy has no bfloat16), after the dtype and finiteness checks."""
        compute_dtype = policy.compute_dtype
        assert keras.backend.standardize_dtype(outputs.dtype) == compute_dtype, (outputs.dtype, compute_dtype)
        outputs = np.asarray(tf.cast(outputs, tf.float32))
        assert np.isfinite(outputs).all(), "non-finite outputs"
        return outputs

    def model_around(head=False, ready=True):
        inputs = keras_inputs()
        layer = make_layer()
        outputs = layer(inputs)
        if head:
            outputs = keras.layers.Dense(1)(keras.layers.Flatten()(outputs))
        model = keras.Model(inputs, outputs)
        if ready and prepare is not None:
            prepare(layer, sample(batch, seed=9))
        return model, layer

    # (1) config round trip
    model, layer = model_around()
    policy = layer.dtype_policy  # the global one, unless `make_layer` gives the layer its own
    for variable in layer.weights:
        assert variable.dtype == policy.variable_dtype, (variable.path, variable.dtype)
    config = layer.get_config()
    clone = type(layer).from_config(copy.deepcopy(config))
    clone(x)
    assert clone.get_config() == config
    for name, value in (expected_config or {}).items():
        assert getattr(clone, name) == value, name
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(values(clone(x)), values(layer(x)), atol=1e-6)

    # (2) .keras file round trip
    path = pathlib.Path(tmp_path) / f"{layer.name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for saved, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy(), err_msg=saved.path)
    np.testing.assert_allclose(values(loaded(x)), values(model(x)), atol=1e-6)

    # (3) SavedModel export, any batch size
    archive = keras.export.ExportArchive()
    archive.track(model)
    image_spec = tf.TensorSpec((None, *input_shape), tf.float32)
    if num_classes is None:
        archive.add_endpoint("serve", lambda images: model(images, training=False), input_signature=[image_spec])
    else:
        archive.add_endpoint(
            "serve", lambda images, labels: model([images, labels], training=False),
            input_signature=[image_spec, tf.TensorSpec((None,), tf.int32)],
        )
    archive.write_out(str(pathlib.Path(tmp_path) / f"{layer.name}_saved"), verbose=False)
    reloaded = tf.saved_model.load(str(pathlib.Path(tmp_path) / f"{layer.name}_saved"))
    for size in batch_sizes:
        inputs = sample(size, seed=size)
        served = reloaded.serve(tf.constant(inputs)) if num_classes is None else reloaded.serve(*map(tf.constant, inputs))
        assert np.abs(values(served) - values(model(inputs))).max() <= 1e-5

    # (4) training, in a compiled step (a layer may change the batch axis, as packing does, so no `fit`);
    # two steps: a block that starts as the identity passes no gradient at first
    model, layer = model_around(head=True, ready=False)
    targets = normal(tuple(model(x).shape), seed=4)
    optimizer = keras.optimizers.Adam(1e-2)
    before = {v.path: v.numpy() for v in model.weights}

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            # the loss in float32, as kgan's rule for losses is under a mixed policy
            loss = tf.reduce_mean(tf.square(tf.cast(model(x, training=True), tf.float32) - targets))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, gradients

    for _ in range(2):
        loss, gradients = train_step()
        assert np.isfinite(float(loss))
        for variable, gradient in zip(model.trainable_variables, gradients, strict=True):
            # a lookup's gradient (an embedding's, a per-class weight's) comes as IndexedSlices
            assert np.isfinite(tf.convert_to_tensor(gradient).numpy()).all(), f"{variable.path}: non-finite gradient"
    trained = layer.trainable_weights or model.trainable_weights
    assert trained, "nothing to train"
    for variable in trained:
        assert not np.array_equal(variable.numpy(), before[variable.path]), f"{variable.path} did not change"
    return layer, before
