"""Distribution strategies by name: one GPU, many GPUs, many hosts, or N logical CPUs for learning.

    strategy = kgan.distribute.get_strategy("auto")      # all visible GPUs, else the default strategy
    with strategy.scope():
        gan = kgan.recipes.build_gan("dcgan")            # networks AND both optimizers built in scope
    gan.fit(dataset)                                      # global batches, split across replicas

What the trainers do for you under a strategy (`kgan.GAN`): every replica draws different z (the
replica id is folded into the latent seed); each replica's losses, penalties included, are divided by
the number of replicas, because the optimizers sum gradients across replicas — so one step on a global
batch B equals one single-device step on B; logged metrics are reduced across replicas. BatchNorm
normalises each replica's share of the batch (per-replica statistics) unless the networks are built
with `synchronized_bn=True`, which all-reduces the statistics (slower; closer to single-device BN).

Batch size and learning rate: keep the *global* batch the same and nothing else changes; scaling the
global batch with the number of replicas is the usual way to use them, with the learning rate scaled
up (linearly, with warm-up) if the larger batch trains slower per example.
"""

import os

import tensorflow as tf

__all__ = ["agree_on_step", "get_strategy", "worker_index"]


def _logical_cpus(count):
    """Split the CPU into `count` logical devices (must happen before TensorFlow starts its runtime)."""
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != count:
            raise RuntimeError(
                f"cpu:{count} needs {count} logical CPUs, but TensorFlow already started with {existing}; "
                "call get_strategy before any other TensorFlow work."
            ) from error
    return [f"/cpu:{index}" for index in range(count)]


def get_strategy(spec="auto"):
    """A `tf.distribute.Strategy` from a name.

    - `"auto"`: MirroredStrategy over all visible GPUs if there is one, else the default strategy;
    - `"default"`: no distribution;
    - `"mirrored"`: MirroredStrategy over all visible GPUs (one host);
    - `"multiworker"`: MultiWorkerMirroredStrategy for many hosts, from `TF_CONFIG`, or from SLURM's
      variables when running under `srun`;
    - `"cpu:N"`: MirroredStrategy over N logical CPU devices, for testing and teaching on one machine;
    - `"tpu"`: TPUStrategy, where a TPU is attached.
    """
    if spec == "auto":
        return tf.distribute.MirroredStrategy() if tf.config.list_physical_devices("GPU") else tf.distribute.get_strategy()
    if spec == "default":
        return tf.distribute.get_strategy()
    if spec == "mirrored":
        return tf.distribute.MirroredStrategy()
    if spec == "multiworker":
        if "TF_CONFIG" not in os.environ and "SLURM_PROCID" in os.environ:
            resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
            return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
        return tf.distribute.MultiWorkerMirroredStrategy()
    if spec.startswith("cpu:"):
        count = int(spec.split(":", 1)[1])
        if count < 1:
            raise ValueError(f"cpu:N needs N >= 1, got {spec!r}.")
        return tf.distribute.MirroredStrategy(devices=_logical_cpus(count))
    if spec == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError) as error:
            raise RuntimeError(f"No TPU is attached here ({error}).") from error
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {spec!r}; use auto, default, mirrored, multiworker, cpu:N or tpu.")


def _is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._num_workers > 1


def worker_index(strategy):
    """This host's index among the workers (0 for the chief, and on a single host)."""
    if not _is_multi_worker(strategy):
        return 0
    resolver = strategy.cluster_resolver
    index = int(resolver.task_id or 0)
    # with a "chief" task, the workers come after it
    return index + 1 if resolver.task_type == "worker" and "chief" in resolver.cluster_spec().jobs else index


def agree_on_step(strategy, step):
    """`step` if every worker of `strategy` restored that same step; else a `RuntimeError` naming the steps.

    Each worker restores its own backup: after a crash, one may hold a later or an earlier one (a
    worker's disk lost, a backup from another run), and workers that go on from different steps
    would train on mismatched weights and data. Every worker must call this at the same point (it is
    a collective operation); a single-host strategy returns `step` as it is.
    """
    if not _is_multi_worker(strategy):
        return step
    return _same_on_every_replica(strategy, lambda replica: step, "restored backup step")


def _same_on_every_replica(strategy, value_of_replica, what):
    """The value every replica gives (`value_of_replica(replica id)`), checked equal across replicas."""

    def value():
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.reshape(tf.cast(value_of_replica(replica), tf.int64), [1])  # rank 1: gathered along axis 0

    values = strategy.gather(strategy.run(value), axis=0).numpy()
    low, high = int(values.min()), int(values.max())
    if low != high:
        raise RuntimeError(
            f"The workers disagree on the {what}: from {low} to {high} across the "
            f"{strategy.num_replicas_in_sync} replicas. Each worker resumes from its own backup "
            "(the chief's in <out>/backup, worker i's in <out>/worker-i/backup): give every worker the backups of the same "
            "step (copy the chief's), or start the run afresh."
        )
    return low
