"""Forward mode on (x(t), y(t)) = (cos ωt, sin ωt): the dual-number example of the lectures.

Forward mode carries a tangent beside every value, (w, dw/dt), through the program:
``s2sad.jvp`` runs the generated tangent program once per direction.  The derivative with
respect to t is (-ω sin ωt, ω cos ωt); with respect to ω it is (-t sin ωt, t cos ωt).

    python examples/forward_mode.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def circle(t, omega):
    return np.cos(omega * t), np.sin(omega * t)


def main():
    args = options(__doc__)
    omega, t = 2.0, 0.3
    # d/dt: tangent 1 for t, 0 for omega
    (x, y), (dx_dt, dy_dt) = s2sad.jvp(circle, (t, omega), (1.0, 0.0))
    compare("value (x, y)", (x, y), (np.cos(omega * t), np.sin(omega * t)))
    compare("d(x, y)/dt", (dx_dt, dy_dt), (-omega * np.sin(omega * t), omega * np.cos(omega * t)))
    # d/dω: tangent 0 for t, 1 for omega
    _, (dx_dw, dy_dw) = s2sad.jvp(circle, (t, omega), (0.0, 1.0))
    compare("d(x, y)/dω", (dx_dw, dy_dw), (-t * np.sin(omega * t), t * np.cos(omega * t)))

    # the same on a whole array of times at once: the tangent program is NumPy code
    ts = np.linspace(0.0, np.pi, 20 if args.small else 200)
    (xs, ys), (dxs, dys) = s2sad.jvp(circle, (ts, omega), (np.ones_like(ts), 0.0))
    compare("dx/dt on a grid", dxs, -omega * np.sin(omega * ts))
    compare("dy/dt on a grid", dys, omega * np.cos(omega * ts))

    with figure(args, "forward_mode", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.plot(ts, xs, label="x(t) = cos ωt")
            ax.plot(ts, ys, label="y(t) = sin ωt")
            ax.plot(ts, dxs, "--", label="dx/dt (s2sad.jvp)")
            ax.plot(ts, dys, "--", label="dy/dt (s2sad.jvp)")
            ax.set_xlabel("t")
            ax.set_title(f"Forward mode on the circle, ω = {omega}")
            ax.legend()
    finish()


if __name__ == "__main__":
    main()
