"""kgan.plots: training curves written to a PNG without a screen."""

import numpy as np
import tensorflow as tf

from kgan.plots import history_figure, plot_history

HISTORY = {"d_loss": [1.0, 0.8, 0.9], "g_loss": [2, 3, 2.5], "d_real": [0.5, 0.6, 0.7]}
NORMS = {"d_grad_norm": [0.5, 2.0, 40.0], "g_grad_norm": [1.0, 3.0, 5.0]}


def png_shape(path):
    return tf.io.decode_png(tf.io.read_file(str(path))).numpy().shape


def legends(axis):
    return [text.get_text() for text in axis.get_legend().get_texts()]


def test_plot_history_writes_a_png(tmp_path):
    path = plot_history(HISTORY, tmp_path / "loss.png")
    assert png_shape(path)[:2] == (2 * 320, 900)  # two panels of 3.2 inches at 100 dpi: losses, D outputs


def test_grad_norms_and_metrics_get_panels_of_their_own(tmp_path):
    metrics = {"fid": [(2, 300.0), (4, 150.0), (6, 2.0)], "kid": [(3, 0.5)], "empty": []}
    path = plot_history({**HISTORY, **NORMS}, tmp_path / "loss.png", metrics=metrics, first_step=5)
    assert png_shape(path)[:2] == (4 * 320, 900)  # losses, D outputs, gradient norms, metrics

    figure = history_figure({**HISTORY, **NORMS}, metrics=metrics, first_step=5)
    losses, others, norms, evaluations = figure.axes
    assert legends(losses) == ["d_loss", "g_loss"] and legends(others) == ["d_real"]
    assert legends(norms) == ["d_grad_norm", "g_grad_norm"] and legends(evaluations) == ["fid", "kid"]
    assert [axis.get_yscale() for axis in figure.axes] == ["linear", "linear", "log", "log"]  # 0.5 … 300: > 100×
    np.testing.assert_array_equal(losses.lines[0].get_xdata(), [5, 6, 7])  # history steps from first_step
    fid = evaluations.lines[0]
    np.testing.assert_array_equal(fid.get_xdata(), [2, 4, 6])
    np.testing.assert_array_equal(fid.get_ydata(), [300.0, 150.0, 2.0])
    assert fid.get_marker() == "o"


def test_metrics_within_a_factor_of_100_keep_a_linear_axis():
    figure = history_figure({"d_loss": [1.0, 2.0]}, metrics={"fid": [(1, 80.0), (2, 40.0)]})
    assert len(figure.axes) == 2 and figure.axes[1].get_yscale() == "linear"
