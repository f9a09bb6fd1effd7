"""Loss curves with matplotlib (no screen needed: the Agg backend writes files)."""

import numpy as np

__all__ = ["plot_history"]


def plot_history(history, path, smoothing=50, title=None):
    """Plot per-step `history` (name → list of values) to a PNG: D/G losses on top, D outputs below.

    Raw values are drawn faintly, a moving average of `smoothing` steps on top.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loss_names = [n for n in history if n.endswith("loss")]
    other_names = [n for n in history if not n.endswith("loss")]
    panels = [names for names in (loss_names, other_names) if names]
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels)), sharex=True, squeeze=False)
    for axis, names in zip(axes[:, 0], panels):
        for name in names:
            values = np.asarray(history[name], dtype=float)
            steps = np.arange(1, len(values) + 1)
            (line,) = axis.plot(steps, values, alpha=0.25, linewidth=0.8)
            window = max(1, min(smoothing, len(values) // 5))
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            axis.plot(steps[window - 1 :], smooth, color=line.get_color(), label=name)
        axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("training step")
    if title:
        axes[0, 0].set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
