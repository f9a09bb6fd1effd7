"""kgan.plots: loss curves written to a PNG without a screen."""

import tensorflow as tf

from kgan.plots import plot_history


def test_plot_history_writes_a_png(tmp_path):
    path = plot_history({"d_loss": [1.0, 0.8, 0.9], "g_loss": [2, 3, 2.5], "d_real": [0.5, 0.6, 0.7]}, tmp_path / "loss.png")
    image = tf.io.decode_png(tf.io.read_file(str(path))).numpy()
    assert image.shape[0] > 100 and image.shape[1] > 100
