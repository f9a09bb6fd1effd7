"""Spectral normalisation as the paper writes it: the layer runs with `W / σ(W)`, and σ is differentiated.

Miyato et al. 2018 bound a discriminator's Lipschitz constant by dividing every kernel `W` by its
largest singular value σ(W). σ is estimated by power iteration with a persistent vector `u`:

    v = normalize(W u),   u = normalize(Wᵀ v),   σ = vᵀ W u

(one step per training call is enough, because W moves little between steps). `u` and `v` are
constants to the gradient, but σ is not: the gradient of `W / σ(W)` has the extra term through σ,
which is what keeps the layer from simply growing W along its top singular direction.

One reshape serves every wrapped layer. The kernel becomes the matrix `reshape(kernel, (-1, last))`:
Dense's (in, out) kernel as is, Conv2D's (kh, kw, in, out) as (kh·kw·in, out) — one column of taps
per output channel — and Conv2DTranspose's (kh, kw, out, in), as Keras stores it, as (kh·kw·out, in),
the transpose of the Conv2D orientation. That does not matter: σ(W) = σ(Wᵀ).

How this differs from `keras.layers.SpectralNormalization`: Keras computes `W / σ` in a training call
and *assigns* it into the kernel variable, then runs the layer with the overwritten kernel. So the
stored kernel is the normalised one, no gradient flows through σ (the optimizer updates the
already-divided kernel as a plain weight), and each training call re-projects it. Use Keras' wrapper
when you want a cheap hard re-projection; use this one for the paper's formulation — gradient through
σ, raw kernel kept in the variable, `W / σ` recomputed in every forward pass (training or not).

Under a mixed precision policy the power iteration, σ and `W / σ` are computed in float32 from the
float32 kernel variable, and only the wrapped layer's own matmul or convolution runs in the compute
dtype. In float16 the iteration would fail: ε = 1e-12 is 0 there, so an all-zero kernel (a fresh or
dead layer) would give 0 / 0 = NaN and poison `u` for good; and the gradient of `W / σ` carries a
factor 1/σ, which must be applied in float32 (for the zero kernel it is 1/ε = 1e12, float16's
largest number is 65504). Only ∂loss/∂(W / σ), a plain kernel gradient, passes through float16.
"""

import contextlib

import keras
from keras import ops

try:
    # Keras exports no way to read a variable without autocasting it; `AutocastScope(None)` is what its
    # own Layer.__call__ enters for that. Without it (a future Keras), kernels are read as the compute
    # dtype: forward values stay right, only a kernel with σ far below 1 can overflow float16 gradients.
    from keras.src.backend import AutocastScope

    def _full_precision_reads():
        return AutocastScope(None)
except ImportError:  # pragma: no cover
    _full_precision_reads = contextlib.nullcontext

__all__ = ["SpectralNormalization"]

SUPPORTED_LAYERS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def _l2_normalize(x, epsilon):
    # max(‖x‖², ε) rather than ‖x‖² + ε: exact for ordinary vectors, finite for a zero one.
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x)), epsilon))


@keras.saving.register_keras_serializable(package="kgan")
class SpectralNormalization(keras.layers.Wrapper):
    """Wraps a Dense, Conv2D or Conv2DTranspose layer so that it computes with `kernel / σ(kernel)`.

    Args:
        layer: the layer to wrap (built on the wrapper's first call, from its input shape).
        power_iterations: power-iteration steps per training call (1 in the paper).
        epsilon: floor under squared norms and σ, so an all-zero kernel gives zeros, not NaNs.
        seed: seed of the normal draw that initialises `u`.

    The non-trainable weight `u`, shape (1, kernel.shape[-1]), holds the power iteration's current
    right singular vector of the kernel matrix W. A call with `training=True` runs `power_iterations`
    steps and stores the new `u`; any other call reuses the stored `u` untouched. Both then divide by
    σ = ‖W u‖, so an inference call right after a training call divides by the same σ. The kernel
    variable itself is never written.

    σ, `u` and `W / σ` are computed in float32 (float64 for a float64 kernel), whatever the policy,
    from the kernel variable read in its own dtype (not autocast to the compute dtype); the wrapped
    layer then runs with `W / σ` in its compute dtype, and the output is in the wrapper's.
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, seed=None, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(layer, SUPPORTED_LAYERS):
            supported = ", ".join(cls.__name__ for cls in SUPPORTED_LAYERS)
            raise ValueError(f"SpectralNormalization wraps {supported}; got {type(layer).__name__}.")  # noqa: TRY004 (a bad option)
        if power_iterations < 1:
            raise ValueError(f"power_iterations must be at least 1, got {power_iterations}.")
        self.power_iterations = int(power_iterations)
        self.epsilon = float(epsilon)
        self.seed = seed

    def build(self, input_shape):
        super().build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if not isinstance(kernel, keras.Variable):
            # e.g. a LoRA-enabled or quantized layer, whose `kernel` is computed, not stored
            raise ValueError(  # noqa: TRY004 (a bad option, as all of kgan's)
                f"SpectralNormalization needs a layer whose `kernel` is a variable; "
                f"{self.layer.name!r} has {type(kernel).__name__}."
            )
        self.u = self.add_weight(
            shape=(1, kernel.shape[-1]),
            initializer=keras.initializers.RandomNormal(seed=self.seed),
            trainable=False,
            name="u",
            dtype=kernel.dtype,
            # every replica computes the same u (it depends on the kernel only), so keep the first's
            aggregation="only_first_replica",
            autocast=False,  # read in full precision under a mixed policy: u is the iteration's state
        )

    def _kernel_matrix(self):
        """The kernel as a (rows, out) matrix, in float32 at least (float64 stays float64)."""
        kernel = self.layer.kernel
        with _full_precision_reads():  # the float32 variable, not its float16 copy of a mixed call
            matrix = ops.reshape(kernel.value, (-1, kernel.shape[-1]))
        return ops.cast(matrix, keras.backend.result_type(matrix.dtype, "float32"))

    def _power_iteration(self, matrix, training):
        """(σ, u) for `matrix`; σ is differentiable in `matrix`, u and v are constants."""
        u = _l2_normalize(ops.cast(self.u.value, matrix.dtype), self.epsilon)
        v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)), self.epsilon)
        if training:
            for _ in range(self.power_iterations):
                u = _l2_normalize(ops.matmul(v, matrix), self.epsilon)
                v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)), self.epsilon)
        u = ops.stop_gradient(u)
        v = ops.stop_gradient(v)
        sigma = ops.squeeze(ops.matmul(ops.matmul(v, matrix), ops.transpose(u)))
        return sigma, u

    def spectral_norm(self):
        """The current estimate of σ(kernel) from the stored `u` (what an inference call divides by)."""
        sigma, _ = self._power_iteration(self._kernel_matrix(), training=False)
        return sigma

    def normalized_kernel(self):
        """`kernel / σ` as an inference call uses it, in the kernel's shape."""
        return self._normalize(training=False)

    def _normalize(self, training):
        matrix = self._kernel_matrix()
        sigma, u = self._power_iteration(matrix, training)
        if training:
            # An all-zero kernel gives u = 0, from which the iteration could never leave: keep the old u.
            u = ops.cast(u, self.u.dtype)
            self.u.assign(ops.where(ops.any(ops.not_equal(u, 0)), u, self.u.value))
        kernel = self.layer.kernel
        # Divided in float32, then handed over in the dtype the kernel reads as here (the compute dtype in a mixed call).
        return ops.cast(ops.reshape(matrix / ops.maximum(sigma, self.epsilon), kernel.shape), kernel.dtype)

    def call(self, inputs, training=None):
        normalized = self._normalize(training=bool(training))
        # Run the wrapped layer's own call with its kernel variable read as `normalized`: Keras'
        # stateless machinery substitutes the value without writing the variable, so the layer's
        # math is Keras' and the gradient reaches the raw kernel through `normalized`. The other
        # variables are mapped to their current values so that an enclosing StatelessScope (a
        # `stateless_call` of the whole model) still sees its own values through this one.
        kernel = self.layer.kernel
        mapping = [(kernel, normalized)] + [(var, var.value) for var in self.layer.variables if var is not kernel]
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
            outputs = self.layer(inputs, training=training)
        for loss in scope.losses:  # the wrapped layer's activity regularizer, collected by the scope
            self.add_loss(loss)
        # The wrapped layer answers in its own compute dtype; the model sees the wrapper's (they differ
        # when only the wrapper was given `dtype="mixed_float16"`).
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(power_iterations=self.power_iterations, epsilon=self.epsilon, seed=self.seed)
        return config
