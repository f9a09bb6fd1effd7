"""Training curves with matplotlib (no screen needed: figures are drawn off-screen and written to files)."""

import numpy as np

__all__ = ["history_figure", "plot_history"]

LOG_SPAN = 100.0  # a metrics panel whose positive values span more than this factor gets a log y axis


def history_figure(history, smoothing=50, title=None, metrics=None, first_step=1):
    """The figure `plot_history` writes, as a `matplotlib.figure.Figure` (not registered with pyplot).

    Panels, top to bottom, each only when it has something to show: the losses (names ending in
    "loss"); the other per-step values (D's outputs, penalties, …); the gradient norms (names ending
    in "grad_norm", log y); the evaluation `metrics`, name → [(step, value), …], recorded every N
    steps (markers and lines, log y when their values span more than 100×). All share the step axis;
    `history`'s values are steps `first_step`, `first_step + 1`, … (pass `resumed_from + 1` for a
    resumed run whose metrics are logged at the global step).
    """
    from matplotlib.figure import Figure

    loss_names = [n for n in history if n.endswith("loss")]
    norm_names = [n for n in history if n.endswith("grad_norm")]
    other_names = [n for n in history if n not in loss_names and n not in norm_names]
    metrics = {name: points for name, points in (metrics or {}).items() if len(points)}
    panels = [("history", names) for names in (loss_names, other_names) if names]
    if norm_names:
        panels.append(("norms", norm_names))
    if metrics:
        panels.append(("metrics", list(metrics)))
    panels = panels or [("history", [])]
    figure = Figure(figsize=(9, 3.2 * len(panels)))
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for axis, (kind, names) in zip(axes, panels):
        if kind == "metrics":
            values = []
            for name in names:
                points = np.asarray(metrics[name], dtype=float).reshape(-1, 2)
                axis.plot(points[:, 0], points[:, 1], marker="o", markersize=4, label=name)
                values.append(points[:, 1])
            values = np.concatenate(values)
            values = values[np.isfinite(values)]
            if len(values) and values.min() > 0 and values.max() > LOG_SPAN * values.min():
                axis.set_yscale("log")
        else:
            for name in names:
                values = np.asarray(history[name], dtype=float)
                steps = np.arange(first_step, first_step + len(values))
                (line,) = axis.plot(steps, values, alpha=0.25, linewidth=0.8)
                window = max(1, min(smoothing, len(values) // 5))
                smooth = np.convolve(values, np.ones(window) / window, mode="valid")
                axis.plot(steps[window - 1 :], smooth, color=line.get_color(), label=name)
            if kind == "norms" and any(np.nanmax(np.asarray(history[n], float), initial=0.0) > 0 for n in names):
                axis.set_yscale("log")  # norms range over decades; zeros (no gradient yet) are left out
        if names:
            axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    axes[-1].set_xlabel("training step")
    if title:
        axes[0].set_title(title)
    figure.tight_layout()
    return figure


def plot_history(history, path, smoothing=50, title=None, metrics=None, first_step=1):
    """Plot per-step `history` (name → list of values) to a PNG: D/G losses on top, D outputs below.

    Raw values are drawn faintly, a moving average of `smoothing` steps on top. Gradient norms
    (names ending in "grad_norm") get their own log-scale panel, and `metrics` (name → list of
    (step, value) pairs, e.g. FID every N steps) a last panel; see `history_figure`. Returns `path`.
    """
    figure = history_figure(history, smoothing=smoothing, title=title, metrics=metrics, first_step=first_step)
    figure.savefig(path, dpi=100)
    return path
