import numpy as np


def f(x, M):
    y = M @ x
    z = np.sum(y) - 2.0 * np.log(np.sum(np.exp(x)))
    return z
