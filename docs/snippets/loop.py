import math


def h(x, n):
    y = x
    for i in range(n):
        if y < 2:
            y = 3 * y * y - y + 1
        else:
            y = math.sin(y) * y
    return y
