"""The soundness catalog's programs (tests/test_catalog.py): plausible functions a user
might write, grouped by class.  s2sad reads a function's source, so they live in a
module of their own.

A ``# REFUSE`` comment marks the line a refusal must name: the construct s2sad cannot
prove exact.  Where a program may be either differentiated exactly or refused, the
marker says where the refusal belongs; the catalog's entry says which is expected.
"""
import functools
import math

import numpy as np

A3 = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [-0.6, 0.2, 0.9]])
SCALE = 2.0
WEIGHTS = [0.5, -1.0, 2.0]
LOG = []


# ==========================================================================
# everyday numerics

def mse(w, X, y):
    r = X @ w - y
    return np.mean(r ** 2)


def huber(r):
    a = np.abs(r)
    return np.sum(np.where(a < 1.0, 0.5 * r * r, a - 0.5))


def l2_norm(x):
    return np.sqrt(np.sum(x * x))


def linalg_norm(x):
    return np.linalg.norm(x)


def l1_norm(x):
    return np.sum(np.abs(x))


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_cross_entropy(z, k):
    p = softmax(z)
    return -np.log(p[k])


def softmax_weighted(z, w):
    return np.sum(softmax(z) * w)


def logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def gaussian_nll(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    r = (data - mu) / sigma
    return np.sum(0.5 * r * r + log_sigma + 0.5 * np.log(2 * np.pi))


def poisson_nll(log_rate, counts):
    return np.sum(np.exp(log_rate) - counts * log_rate)


def ridge(w, X, y, lam):
    r = X @ w - y
    return r @ r + lam * (w @ w)


def logistic_loss(w, X, t):
    margins = t * (X @ w)
    return np.sum(np.log1p(np.exp(-margins)))


def sigmoid_bce(w, X, t):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def mlp_tanh(W1, b1, W2, b2, x):
    h = np.tanh(W1 @ x + b1)
    out = W2 @ h + b2
    return np.sum(out * out)


def mlp_relu(W1, b1, w2, x):
    h = np.maximum(W1 @ x + b1, 0.0)
    return np.dot(w2, h)


def rnn(Wh, Wx, h0, xs):
    h = h0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    return np.sum(h)


def euler_ode(k, y0):
    y = y0
    dt = 0.1
    for i in range(10):
        t = i * dt
        y = y + dt * (-k * y + math.sin(t))
    return y


def rk4_step(y, k):
    h = 0.1
    k1 = -k * y
    k2 = -k * (y + 0.5 * h * k1)
    k3 = -k * (y + 0.5 * h * k2)
    k4 = -k * (y + h * k3)
    return y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_system(y):
    h = 0.05
    for i in range(5):
        k1 = A3 @ y
        k2 = A3 @ (y + 0.5 * h * k1)
        k3 = A3 @ (y + 0.5 * h * k2)
        k4 = A3 @ (y + h * k3)
        y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(y * y)


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def newton_cbrt_fixed(a):
    x = 1.0
    for i in range(30):
        x = x - (x ** 3 - a) / (3 * x ** 2)
    return x


def piecewise(x):
    if x < -1.0:
        return -x - 0.5
    elif x < 1.0:
        return 0.5 * x * x
    else:
        return x - 0.5


def clipped_loss(x):
    c = np.clip(x, -1.0, 1.0)
    return np.sum(c * c * x)


def horner(c, x):
    acc = 0.0
    for k in range(len(c)):
        acc = acc * x + c[k]
    return acc


def kl_divergence(p_logits, q):
    p = softmax(p_logits)
    return np.sum(p * (np.log(p) - np.log(q)))


def cosine_similarity(a, b):
    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


def softplus_sum(x):
    return np.sum(np.log1p(np.exp(x)))


def variance_std(x):
    return np.var(x) + np.std(x)


def cumsum_loss(x):
    c = np.cumsum(x)
    return np.sum(c * c)


def outer_trace(a, b):
    M = np.outer(a, b)
    return np.trace(M @ M)


def quadratic_form(x):
    return x @ A3 @ x


def hypot_scalar(x, y):
    return math.sqrt(x * x + y * y) + math.atan2(y, x)


def einsum_bilinear(x, y):
    return np.einsum("i,ij,j->", x, A3, y)  # REFUSE


def gradient_descent_steps(x0, lr):
    x = x0
    for i in range(5):
        g = 2 * (x - 1.0)
        x = x - lr * g
    return np.sum(x * x)


def sum_over_axis(X):
    col = np.sum(X, axis=0)
    row = np.mean(X, axis=1, keepdims=True)
    return np.sum(col * col) + np.sum(X * row)


def max_pooling(x):
    return np.sum(np.max(x.reshape(2, 3), axis=1))


def exp_decay_sum(rate):
    t = np.arange(5) * 0.5
    return np.sum(np.exp(-rate * t))


# ==========================================================================
# control flow

def early_return(x):
    if x > 0.5:
        return x * x
    y = math.sin(x)
    return y * 3.0


def while_break(x):
    y = x
    n = 0
    while True:
        y = y * 0.9 + 0.1 * math.cos(y)
        n += 1
        if n >= 4:
            break
    return y


def for_continue(x):
    total = 0.0
    for i in range(6):
        if i % 2 == 0:
            continue
        total = total + x ** i
    return total


def nested_loops(x):
    total = 0.0
    for i in range(3):
        for j in range(i):
            total = total + x[i] * x[j]
    return total


def loop_over_rows(X):
    acc = 0.0
    for row in X:
        acc = acc + np.sum(np.sin(row)) * row[0]
    return acc


def for_else(x):
    y = x
    for i in range(3):
        y = y * x
        if y > 100.0:
            break
    else:
        y = y + 1.0
    return y


def zip_enumerate(a, b):
    total = 0.0
    for k, (u, v) in enumerate(zip(a, b)):
        total = total + (k + 1) * u * v
    return total


def value_dependent_range(x):
    y = x
    for i in range(int(x) + 2):
        y = y * 0.5 + math.sin(y)
    return y


def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


def ternary_and_or(x, y):
    a = x if x > y else y * 2.0
    b = (x > 0 and y > 0) or x < -5
    return a * (2.0 if b else 1.0)


def chained_comparison(x):
    if 0.0 < x < 1.0:
        return x ** 3
    return x


def while_halving(x):
    y = x
    count = 0
    while y > 1.0:
        y = y / 2.0
        count += 1
    return y * count + y


def array_condition_while(x):
    y = x
    while np.sum(y * y) > 1.0:
        y = y * 0.8
    return np.sum(y)


def nested_def(x):
    def inner(v):
        return v * v + x
    return inner(x) * inner(2.0)


def local_lambda(x):
    sq = lambda v: v * v
    return sq(x) + sq(np.sin(x))


def list_comprehension(x):
    ys = [x ** k for k in range(4)]
    return sum(ys)


def generator_sum(x):
    return sum(np.sin(x * k) for k in range(3))


def loop_carried_array(x):
    y = x
    for i in range(3):
        y = np.tanh(A3 @ y) + x
    return np.sum(y)


def branch_on_array_element(x):
    if x[0] > x[1]:
        y = x * 2.0
    else:
        y = x ** 2
    return np.sum(y)


def early_return_in_loop(x):
    y = x
    for i in range(10):
        y = y * 1.5
        if y > 3.0:
            return y
    return -y


# ==========================================================================
# in-place writes into local arrays

def write_elements(x, y):
    h = np.zeros(3)
    h[0] = x
    h[1] = x * y
    h[2] = math.sin(y)
    return np.sum(h * h)


def write_rows_in_loop(x):
    H = np.zeros((3, 3))
    for i in range(3):
        H[i] = x * (i + 1.0)
    return np.sum(np.sin(H))


def write_slice(v):
    h = np.ones(5)
    h[1:4] = v * v
    return np.sum(h * np.arange(5))


def scalar_into_row(s, x):
    H = np.zeros((2, 3))
    H[0] = s
    H[1] = x
    return np.sum(H * H * A3[:2])


def scalar_into_column(s):
    H = np.ones((3, 2))
    H[:, 0] = s
    return np.sum(H @ np.array([1.0, 2.0]) ** 2)


def repeated_fancy_add(v):
    h = np.zeros(3)
    h[[0, 0]] += v
    return np.sum(h * np.array([1.0, 2.0, 3.0]))


def repeated_fancy_assign(v):
    h = np.zeros(3)
    h[[1, 1]] = v
    return np.sum(h * h)


def fancy_index_write(x):
    h = np.zeros(4)
    h[[0, 2]] = x
    return np.sum(h * np.arange(1.0, 5.0))


def mask_write(x):
    h = x.copy()
    h[h < 0] = 0.0
    return np.sum(h * h)


def inplace_multiply_slice(x, s):
    h = x * 1.0
    h[1:] *= s
    return np.sum(h)


def inplace_divide_all(x, s):
    h = x + 0.0
    h /= s
    h -= 1.0
    return np.sum(h * h)


def overwrite_twice(x):
    h = np.zeros(3)
    for i in range(3):
        h[0] = h[0] * x + 1.0
        h[1] = h[0] * h[0]
    return np.sum(h)


def copy_then_write(x):
    y = x.copy()
    y[0] = y[1] * y[2]
    return np.sum(y * y)


def write_2d_element(x):
    M = np.eye(3)
    M[0, 1] = x
    M[2, 0] = x * x
    return np.sum(M @ M)


def negative_index_write(x):
    h = np.zeros(3)
    h[-1] = x
    h[-2] += x * 3.0
    return np.sum(h ** 3)


def step_slice_write(v):
    h = np.zeros(6)
    h[::2] = v
    h[1::2] = v * v
    return np.sum(h * np.arange(6.0))


def augmented_scalar_local(x):
    y = x
    y += 1.0
    y *= x
    y **= 2
    return y


def index_write_from_loop_var(x):
    h = np.zeros(3)
    for i in range(3):
        h[i] += x[i] * h[i - 1] + x[i]
    return np.sum(h)


def column_slice_add(X):
    Y = X.copy()
    Y[:, 1:] += Y[:, :1]
    return np.sum(Y * Y)


# ==========================================================================
# aliases and views of local arrays

def alias_write(x):
    h = np.zeros(3)
    g = h  # REFUSE
    g[0] = x  # REFUSE
    return np.sum(h * h) + x


def slice_view_write(x):
    h = np.ones(4)
    v = h[1:3]  # REFUSE
    v[0] = x  # REFUSE
    return np.sum(h * h)


def transpose_view_write(x):
    h = np.zeros((2, 2))
    t = h.T  # REFUSE
    t[0, 1] = x  # REFUSE
    return np.sum(h * np.array([[1.0, 2.0], [3.0, 4.0]]))


def reshape_view_write(x):
    h = np.zeros(4)
    r = h.reshape(2, 2)  # REFUSE
    r[1, 0] = x  # REFUSE
    return np.sum(h * np.arange(4.0))


def alias_then_iadd(x):
    h = np.ones(3)
    y = h  # REFUSE
    h += x  # REFUSE
    return np.sum(y * y)


def alias_then_rebind(x):
    h = np.ones(3)
    y = h
    h = h + x
    return np.sum(y * y) + np.sum(h)


def row_view_iadd(x):
    H = np.zeros((2, 3))
    row = H[0]  # REFUSE
    row += x  # REFUSE
    return np.sum(H * H)


def column_view_write(x):
    H = np.ones((3, 2))
    col = H[:, 1]  # REFUSE
    col[:] = x  # REFUSE
    return np.sum(H @ np.array([1.0, 3.0]))


def asarray_alias_of_local(x):
    h = np.zeros(3)
    g = np.asarray(h)  # REFUSE
    g[1] = x  # REFUSE
    return np.sum(h) * x


def ravel_view_write(x):
    H = np.zeros((2, 2))
    flat = H.ravel()  # REFUSE
    flat[3] = x  # REFUSE
    return np.sum(H * H)


def list_alias_write(x):
    a = [x, 2.0 * x]
    b = a  # REFUSE
    b[0] = x * x  # REFUSE
    return a[0] + a[1]


def view_of_argument_write(x):
    v = x[1:]  # REFUSE
    v[0] = 0.0  # REFUSE
    return np.sum(x)


def argument_iadd(x):
    x += 1.0  # REFUSE
    return np.sum(x * x)


def argument_alias_write(x):
    y = x  # REFUSE
    y[0] = 2.0  # REFUSE
    return np.sum(y * x)


def flat_write(x):
    h = np.zeros(3)
    h.flat[1] = x  # REFUSE
    return np.sum(h * h)


def view_written_in_loop(x):
    H = np.zeros((3, 3))
    for i in range(3):
        row = H[i]  # REFUSE
        row[:] = x * i  # REFUSE
    return np.sum(H ** 2)


def alias_in_branch(x):
    h = np.ones(2)
    if x > 0:
        g = h  # REFUSE
    else:
        g = np.ones(2)
    g[0] = x  # REFUSE
    return np.sum(h * h)


def swap_via_tuple(x, y):
    h = np.array([x, y])
    h[0], h[1] = h[1], h[0] * 2.0
    return h[0] * h[1] ** 2


# ==========================================================================
# calls with effects

def add_at_local(v):
    h = np.zeros(3)
    np.add.at(h, [0, 0, 2], v)  # REFUSE
    return np.sum(h * h)


def copyto_local(v):
    h = np.zeros(3)
    np.copyto(h, v * 2.0)  # REFUSE
    return np.sum(h * h)


def fill_local(x):
    h = np.zeros(3)
    h.fill(x)  # REFUSE
    return np.sum(h * np.arange(3.0))


def out_kwarg_local(x):
    h = np.zeros(3)
    np.multiply(x, 2.0, out=h)  # REFUSE
    return np.sum(h * h)


def exp_out_argument(x):
    np.exp(x, out=x)  # REFUSE
    return np.sum(x)


def exp_out_local(x):
    h = x * 1.0
    np.exp(h, out=h)  # REFUSE
    return np.sum(h)


def list_extend(x, y):
    xs = [x]
    xs.extend([y, x * y])  # REFUSE
    return sum(xs) * xs[-1]


def list_insert(x, y):
    xs = [x, y]
    xs.insert(0, x * x)  # REFUSE
    return xs[0] * 2.0 + xs[1]


def list_reverse(x, y):
    xs = [x, y, x * y]
    xs.reverse()  # REFUSE
    return xs[0] + 2.0 * xs[1]


def sort_argument(x):
    x.sort()  # REFUSE
    return x[0] * 2.0 + x[1]


def sort_local(x):
    h = x * 1.0
    h.sort()  # REFUSE
    return h[0] * 2.0 + h[-1]


class Box:
    def __init__(self):
        self.a = 0.0


BOX = Box()


def setattr_global(x):
    setattr(BOX, "a", x)  # REFUSE
    return x * BOX.a


def _zero_first(a):
    a[0] = 0.0  # REFUSE
    return a


def helper_mutates_local(x):
    h = x * 1.0
    _zero_first(h)  # REFUSE
    return np.sum(h * h)


def helper_mutates_argument(x):
    _zero_first(x)  # REFUSE
    return np.sum(x * x)


def list_pop(x, y):
    xs = [x, y, x * y]
    last = xs.pop()  # REFUSE
    return last + sum(xs)


def put_local(x):
    h = np.zeros(3)
    np.put(h, [1], x)  # REFUSE
    return np.sum(h * h)


def list_sort(x, y):
    xs = [x, y]
    xs.sort()  # REFUSE
    return xs[0] * 2.0 + xs[1]


def global_log_append(x):
    LOG.append(x)  # REFUSE
    return x * x


def mutable_default(x, acc=[]):
    acc.append(x)  # REFUSE
    return sum(acc)


def attribute_write_local_object(x):
    b = Box()  # REFUSE
    b.a = x  # REFUSE
    return b.a * x


def clip_out_local(x):
    h = x * 1.0
    np.clip(h, -0.5, 0.5, out=h)  # REFUSE
    return np.sum(h * x)


def cumsum_out(x):
    h = np.zeros(3)
    np.cumsum(x, out=h)  # REFUSE
    return np.sum(h * h)


# ==========================================================================
# array displays

def display_2x2(a, b, c, d):
    M = np.array([[a, b], [c, d]])
    return np.sum(M @ M) + np.linalg.det(M)


def display_scaled(s):
    v = np.array([s, 2 * s])
    return np.sum(v * v * v)


def display_nested(x):
    M = np.array([[x, 1.0], [0.0, x * x]])
    return np.sum(np.linalg.inv(M + 2.0 * np.eye(2)))


def display_mixed_constant_rows(v):
    M = np.array([v, [1.0, 2.0, 3.0]])
    return np.sum(M @ M.T)


def display_stack_arrays(v, w):
    M = np.array([v, w])
    return np.sum(M ** 2 * np.arange(1.0, 4.0))


def display_of_elements(x):
    v = np.array([x[0], x[1] * 2.0, 3.0])
    return np.sum(v * v)


def array_copy_of_argument_write(x):
    h = np.array(x)
    h[0] = 0.0
    return np.sum(h * x)


def asarray_of_argument_write(x):
    h = np.asarray(x)
    h[0] = 0.0  # REFUSE
    return np.sum(h * h)


def display_1x1(s):
    M = np.array([[s]])
    return np.sum(M * M) * s


def list_display_sum(x, y):
    xs = [x, y, x * y]
    return np.sum(np.array(xs) ** 2)


def tuple_display(x, y):
    t = (x, y * 2.0)
    return t[0] * t[1]


def display_with_dtype(x, y):
    v = np.array([x, y], dtype=float)
    return np.sum(np.exp(v))


def display_then_write(x, y):
    v = np.array([x, y, 0.0])
    v[2] = v[0] * v[1]
    return np.sum(v * v)


def display_3d(x):
    T = np.array([[[x, 1.0], [2.0, x]], [[0.5, x * x], [x, 3.0]]])
    return np.sum(T * T)


def asarray_of_list(x, y):
    v = np.asarray([x, y])
    return np.sum(np.sin(v)) * v[0]


def display_of_scalars_and_array_elements(v, s):
    w = np.array([v[0] * s, s, v[2]])
    return w @ w


def hstack_concat(v, s):
    w = np.concatenate([v, np.array([s])])
    return np.sum(w ** 2)


# ==========================================================================
# stacked linear algebra

def stacked_inv(A):
    return np.sum(np.linalg.inv(A))


def stacked_det(A):
    return np.sum(np.linalg.det(A))


def stacked_solve(A, b):
    return np.sum(np.linalg.solve(A, b) ** 2)


def matmul_3d(A, B):
    return np.sum(np.sin(A @ B))


def matmul_3d_2d(A, W):
    return np.sum((A @ W) ** 2)


def slogdet_stacked(A):
    sign, logdet = np.linalg.slogdet(A)
    return np.sum(logdet)


def inv_2d(A):
    return np.sum(np.linalg.inv(A) * A3)


def det_2d(A):
    return np.linalg.det(A)


def solve_2d(A, b):
    return np.sum(np.linalg.solve(A, b))


def swapaxes_gram(A):
    G = np.swapaxes(A, -1, -2) @ A
    return np.sum(np.log(np.linalg.det(G)))


def batched_quadratic(A, x):
    return np.sum(x @ A @ x)


# ==========================================================================
# dtype conversions, products, rounding

def astype_int_weights(x):
    k = (x * 3.0).astype(int)
    return np.sum(k * x * x)


def astype_float_copy(x):
    h = x.astype(float)
    h[0] = 1.0
    return np.sum(h * x)


def prod_with_zero(x):
    return np.prod(x)


def prod_axis_with_zero(X):
    return np.sum(np.prod(X, axis=0))


def floor_times(x):
    return np.sum(np.floor(x) * x)


def int_in_branch(x):
    n = int(x * 4.0)
    if n % 2 == 0:
        return x * x
    return x * 3.0


def round_builtin(x):
    return round(x, 2) * x + x * x


def sign_times(x):
    return np.sum(np.sign(x) * x * x)


def astype_float32(x):
    h = x.astype(np.float32)
    return float(np.sum(h * h))


def mod_scalar(x):
    return (x % 1.0) * x


def floor_div(x):
    return (x // 0.5) * x + x


# ==========================================================================
# strings and eval of active values

def str_of_active(x):
    s = str(x)  # REFUSE
    return float(s) * x


def repr_of_active(x):
    s = repr(x)  # REFUSE
    return float(s) * 2.0


def percent_format(x):
    s = "%.17g" % x  # REFUSE
    return float(s) * x


def eval_of_active(x):
    return eval("x * x")  # REFUSE


def fstring_of_active(x):
    s = f"{x:.17g}"  # REFUSE
    return float(s) + x


def format_builtin(x):
    s = format(x, ".17g")  # REFUSE
    return float(s) * x


def str_format_method(x):
    s = "{}".format(x)  # REFUSE
    return float(s) * x


def _to_text(v):
    return str(v)  # REFUSE


def str_in_helper(x):
    return float(_to_text(x)) * x


def len_of_str(x):
    n = len(str(x))  # REFUSE
    return x * n


def str_of_constant(x):
    s = str(2.5)
    return float(s) * x


def print_active(x):
    y = x * x
    print(y)  # REFUSE
    return y


# ==========================================================================
# decorators

def double_output(fn):
    @functools.wraps(fn)
    def wrapper(*args):  # REFUSE
        return 2.0 * fn(*args)
    return wrapper


def identity_wraps(fn):
    @functools.wraps(fn)
    def wrapper(*args):  # REFUSE
        return fn(*args)
    return wrapper


def double_no_wraps(fn):
    def wrapper(*args):  # REFUSE
        return 2.0 * fn(*args)
    return wrapper


def register(fn):
    return fn


def add_offset_arg(fn):
    @functools.wraps(fn)
    def wrapper(x):  # REFUSE
        return fn(x + 1.0)
    return wrapper


@double_output  # REFUSE
def decorated_doubling(x):
    return x * x * x


@identity_wraps  # REFUSE
def decorated_identity(x):
    return math.sin(x) * x


@double_no_wraps  # REFUSE
def decorated_no_wraps(x):
    return x * x


@register  # REFUSE
def decorated_register(x):
    return math.exp(x) * x


@add_offset_arg  # REFUSE
def decorated_shift(x):
    return x ** 3


@double_output  # REFUSE
def _doubled_helper(v):
    return v * v


def calls_decorated_helper(x):
    return _doubled_helper(x) + x  # REFUSE


@double_no_wraps  # REFUSE
def _doubled_helper_nowraps(v):
    return v * v


def calls_decorated_helper_nowraps(x):
    return _doubled_helper_nowraps(x) + x  # REFUSE


@register  # REFUSE
def _registered_helper(v):
    return np.sin(v) * v


def calls_registered_helper(x):
    return _registered_helper(x) * 2.0  # REFUSE


@functools.lru_cache(maxsize=None)  # REFUSE
def _cached_helper(v):
    return v * v + 1.0


def calls_cached_helper(x):
    return _cached_helper(x) * x  # REFUSE


# ==========================================================================
# methods

class Scaler:
    factor = 3.0

    def __init__(self, k):
        self.k = k
        self.w = np.array([1.0, -2.0, 0.5])

    def scale(self, v):
        return self.k * v * v  # REFUSE

    def dot_w(self, v):
        return np.dot(self.w, v)  # REFUSE

    @staticmethod
    def square(v):
        return v * v

    @classmethod
    def triple(cls, v):
        return cls.factor * v  # REFUSE

    def accumulate(self, v):
        self.k = self.k + v  # REFUSE
        return self.k * v


SCALER = Scaler(1.5)


def calls_bound_method(x):
    return SCALER.scale(x) + x  # REFUSE


def calls_method_reading_array(x):
    return SCALER.dot_w(x) ** 2  # REFUSE


def calls_staticmethod(x):
    return Scaler.square(x) * x  # REFUSE


def calls_classmethod(x):
    return Scaler.triple(x) * x  # REFUSE


def calls_mutating_method(x):
    return SCALER.accumulate(x)  # REFUSE


def local_object_method(x):
    s = Scaler(2.0)  # REFUSE
    return s.scale(x)  # REFUSE


def array_method_calls(x):
    return x.sum() * x.mean() + (x * x).max()  # REFUSE


# ==========================================================================
# argument kinds

def kind_scalar(x):
    return x * x * np.sin(x)


def kind_array_sum(x):
    return np.sum(np.exp(x) * x)


def kind_list_loop(xs):
    total = 0.0
    for v in xs:
        total = total + v * v
    return total


def kind_tuple_index(t):
    return t[0] * t[1] + math.sin(t[0])


def power_loop(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def kind_list_of_arrays(xs):
    return np.sum(xs[0] * xs[1])


def kind_matrix_argument(X):
    return np.sum(X @ X.T)


# ==========================================================================
# keyword arguments and defaults

def with_default(x, scale=2.0):
    return scale * x * x


def _helper_kw(v, a=1.0, b=0.0):
    return a * v * v + b * v


def calls_helper_keywords(x):
    return _helper_kw(x, b=3.0) + _helper_kw(a=0.5, v=x)


def keyword_only(x, *, power=3):
    return x ** power


def _helper_global_default(v, s=SCALE):
    return s * v


def calls_helper_global_default(x):
    return _helper_global_default(x) * x


def default_is_array(x, w=np.array([1.0, 2.0, 3.0])):
    return np.sum(w * x * x)


# ==========================================================================
# closures and globals

def make_scaled(k):
    def scaled(x):
        return k * x * x
    return scaled


closure_float = make_scaled(2.5)


def make_affine(W):
    def affine(x):
        return np.sum(np.tanh(W @ x))
    return affine


closure_array = make_affine(A3)


def make_counter_closure():
    state = [0.0]

    def counted(x):
        state[0] = state[0] + x  # REFUSE
        return x * state[0]
    return counted


closure_mutating = make_counter_closure()


def reads_global_array(x):
    return np.sum((A3 @ x) ** 2)


def reads_global_scalar(x):
    return SCALE * x ** 3


def reads_global_list(x):
    total = 0.0
    for k in range(3):
        total = total + WEIGHTS[k] * x ** k
    return total


def calls_global_function(x):
    return softmax(x)[0] + l2_norm(x)


def shadowed_builtin(x):
    abs = 2.0
    return abs * x


# ==========================================================================
# copies that are not copies, names s2sad itself uses, odd but plain Python

BUFFER = np.zeros(3)


def slice_copy_idiom_argument(x):
    y = x[:]  # REFUSE
    y[0] = 0.0  # REFUSE
    return np.sum(y * x)


def reshape_of_argument_write(x):
    y = x.reshape(-1)  # REFUSE
    y[1] = 1.0  # REFUSE
    return np.sum(y * y)


def asarray_float_argument_write(x):
    y = np.asarray(x, dtype=float)  # REFUSE
    y[2] = 0.5  # REFUSE
    return np.sum(y * x)


def view_method_argument_write(x):
    y = x.view()  # REFUSE
    y[0] = 3.0  # REFUSE
    return np.sum(y)


def global_buffer_write(x):
    BUFFER[0] = x  # REFUSE
    return np.sum(BUFFER * BUFFER)


def astype_copy_write(x):
    y = x.astype(float)
    y[0] = 0.0
    return np.sum(y * x)


def generated_names(x):
    x_bar = x * 2.0
    y_bar = x_bar + 1.0
    t1 = y_bar * x
    x_dot = t1 - x
    unbroadcast = x_dot * x_dot
    return unbroadcast + t1


def unreduce(v):
    return v * 3.0


def user_helper_named_like_runtime(x):
    return np.sum(unreduce(x) * x)


def parameter_named_y_bar(x, y_bar):
    return x * y_bar + np.sin(x)


def annotated(x: float) -> float:
    """A docstring and annotations."""
    y: float = x * 2.0  # REFUSE
    return y * y


def unicode_names(x):
    α = x * 2.0
    β = math.sin(α)
    return α * β


def builtin_min_max_abs(x, y):
    return max(x, y) * min(x, y) + abs(x - y)  # REFUSE


def builtin_pow_and_math_pow(x):
    return pow(x, 3) + math.pow(x, 2.5) + 2.0 ** x  # REFUSE


def sqrt_power(x):
    return np.sum(x ** 0.5 + x ** 2.0)


def item_of_element(x):
    return x[0].item() * x[1] + float(x[2]) * x[0]  # REFUSE


def np_float64_constructor(x):
    return np.float64(x) * x + float(np.float64(x * 2.0))  # REFUSE


def builtin_sum_of_array(x):
    return sum(x) * x[0]  # REFUSE


def list_repeat(x):
    xs = [x] * 3  # REFUSE
    return sum(xs) * xs[0]


def list_slices(x, y):
    xs = [x, y, x * y, 2.0]
    return sum(xs[1:]) * xs[::-1][0]


def sorted_list(x, y):
    xs = sorted([x, y, 0.5])  # REFUSE
    return xs[0] * 2.0 + xs[-1]


def np_sort_function(x):
    s = np.sort(x)  # REFUSE
    return s[0] * 2.0 + s[-1]


def boolean_mask_read(x):
    return np.sum(x[x > 0.0] ** 2)


def comparison_times(x):
    return np.sum((x > 0.0) * x * x)


def unpack_vector(x):
    a, b, c = x  # REFUSE
    return a * b + c


def unpack_matrix_rows(X):
    r0, r1 = X  # REFUSE
    return np.sum(r0 * r1)


def enumerate_write(x):
    h = np.zeros(3)
    for i, v in enumerate(x):
        h[i] = v * v
    return np.sum(h * np.arange(1.0, 4.0))


def reversed_slice_write(x):
    h = np.zeros(3)
    h[::-1] = x
    return np.sum(h * np.arange(1.0, 4.0))


def element_power_augmented(x):
    h = x * 1.0
    h[0] **= 2
    h[1] /= 3.0
    return np.sum(h * h)


def nested_list_index(x, y):
    m = [[x, y], [y * 2.0, x * x]]
    return m[0][1] * m[1][1] + m[1][0]


def list_element_augmented(x, y):
    xs = [x, y]
    xs[0] += y
    xs[1] *= x
    return xs[0] * xs[1]


def tuple_output(x):
    return x * 2.0, x * x  # REFUSE


def one_element_array_output(x):
    return np.array([x * x])  # REFUSE


def constant_output(x):
    return 3.0


def unused_argument(x, y):
    return y * 2.0


def int_return_on_untaken_path(x):
    if x > 10.0:
        return 0
    return x * x


def or_as_value(x, y):
    a = x or y
    b = (x > 5.0) and y
    return a * 2.0 + (b or 1.0) * x


def lambda_default_capture(x):
    scale = lambda v, k=x: v * k  # REFUSE
    return scale(2.0) + scale(x)


def isinstance_branch(x):
    if isinstance(x, np.ndarray):
        return np.sum(x * x)
    return x * x * x


def ufunc_reduce(x):
    return np.add.reduce(x * x) + np.maximum.reduce(x)  # REFUSE


def norm_with_ord(x):
    return np.linalg.norm(x, ord=1) + np.linalg.norm(x, 3)  # REFUSE


def sum_where_keyword(x):
    return np.sum(x * x, where=x > 0.0)  # REFUSE


def eigh_sum(A):
    S = A + A.T
    w, V = np.linalg.eigh(S)  # REFUSE
    return np.sum(w * w)


def walrus_nested(x):
    y = x * 2.0
    return y + (z := x * x) * z  # REFUSE


def random_inside(x):
    return x * np.random.uniform()  # REFUSE


def empty_then_fill_slice(x):
    h = np.empty(3)
    h[:] = x
    return np.sum(h * h * np.arange(3.0))


def rebind_then_write(x):
    h = x
    h = h * 2.0
    h[0] = 1.0
    return np.sum(h * x)


def copy_slice_then_write(x):
    h = x[1:].copy()
    h[0] = 5.0
    return np.sum(h * x[:2])


def zeros_like_then_write(x):
    h = np.zeros_like(x)
    h[1] = x[0] * x[2]
    return np.sum(h * h) + np.sum(x)


def divmod_builtin(x):
    q, r = divmod(x, 0.5)  # REFUSE
    return q * x + r * r


def math_floor_fabs(x):
    return math.floor(x) * x + math.fabs(x) * x  # REFUSE


# ==========================================================================
# scoping, names and definitions

def redefined(x):
    return x * x


def redefined(x):  # noqa: F811 - the second definition is the one Python uses
    return x * x * x


def comprehension_shadows_parameter(x):
    ys = [x * 2.0 for x in range(3)]
    return x * x + sum(ys)


def loop_rebinds_parameter(x):
    for x in [x, 2.0 * x]:
        pass
    return x * x


def comprehension_over_parameter(x):
    return sum([v * v for v in x]) + x[0]


def nested_comprehension(x):
    return sum([x[i] * x[j] for i in range(3) for j in range(i)])


def is_even_count(x, n):
    if n == 0:
        return x
    return is_odd_count(x * 1.5, n - 1)


def is_odd_count(x, n):
    if n == 0:
        return -x
    return is_even_count(np.sin(x), n - 1)


def global_declared(x):
    global SCALE  # REFUSE
    return SCALE * x


def chained_subscript_assign(x):
    h = np.zeros(3)
    h[0] = h[1] = x
    return np.sum(h * np.arange(1.0, 4.0))


def inner_shadows_helper(x):
    def l2_norm(v):
        return v * 3.0
    return l2_norm(x) * x


# ==========================================================================
# indexing and array building

IDX = np.array([2, 0, 0])


def repeated_index_read(x):
    return np.sum(x[[0, 0, 1]] ** 2)


def global_index_array_read(x):
    return np.sum(x[IDX] * np.arange(1.0, 4.0))


def take_repeated(x):
    return np.sum(np.take(x, [0, 0, 2]) ** 3)


def negative_step_read(x):
    return np.sum(x[::-2] * x[1::2].sum())


def newaxis_outer(x):
    return np.sum(np.sin(x[None, :] * x[:, None]))


def ellipsis_index(X):
    return np.sum(X[..., 0] * X[..., 1])


def broadcast_iadd_2d(x):
    H = np.ones((3, 2))
    H += x[:, None]
    return np.sum(H * H)


def column_iadd_2d(v):
    H = np.zeros((3, 3))
    H[:, 0] += v
    H[1, :] -= v * 2.0
    return np.sum(H ** 2)


def broadcast_to_read(x):
    B = np.broadcast_to(x, (2, 3))
    return np.sum(B * np.arange(6.0).reshape(2, 3))


def stack_concat(x, y):
    S = np.stack([x, y * 2.0])
    C = np.concatenate([x, y])
    V = np.vstack([x, y])
    return np.sum(S * V) + np.sum(C ** 3)


def reshape_outer(x):
    return np.sum(x.reshape(3, 1) @ x.reshape(1, 3) * A3)


def tile_repeat(x):
    return np.sum(np.tile(x, 2) * np.repeat(x, 2))


def diag_build_read(x):
    D = np.diag(x)
    return np.sum(D @ A3) + np.sum(np.diagonal(D @ D))


def triu_of_product(x):
    return np.sum(np.triu(np.outer(x, x)))


def cholesky_logdet(A):
    S = A @ A.T + 3.0 * np.eye(3)
    L = np.linalg.cholesky(S)
    return np.sum(np.log(np.diagonal(L)))


def recurrence_through_array(x):
    h = np.zeros(4)
    h[0] = x
    for i in range(1, 4):
        h[i] = np.sin(h[i - 1]) * x + h[i - 1]
    return h[3]


def two_loops_same_buffer(x):
    h = np.zeros(3)
    for i in range(3):
        h[i] = x[i] * 2.0
    for i in range(3):
        h[i] = h[i] * h[(i + 1) % 3]
    return np.sum(h)


def matrix_row_swap(X):
    Y = X.copy()
    tmp = Y[0].copy()
    Y[0] = Y[1]
    Y[1] = tmp
    return np.sum(Y * A3)


def matrix_row_swap_without_copy(X):
    Y = X.copy()
    tmp = Y[0]  # REFUSE
    Y[0] = Y[1]  # REFUSE
    Y[1] = tmp  # REFUSE
    return np.sum(Y * A3)


# ==========================================================================
# masked singularities, long loops, many parameters, argument conventions

def safe_sqrt_where(x):
    return np.sum(np.where(x > 0.0, np.sqrt(np.abs(x) + (x <= 0.0)), 0.0) * x)


def sqrt_where_untaken_nan(x):
    return np.sum(np.where(x > 0.0, np.sqrt(x), 0.0))


def sinc_where(x):
    return np.sum(np.where(x != 0.0, np.sin(x) / x, 1.0))


def long_loop(x):
    y = x
    for i in range(500):
        y = y * 0.999 + 0.001 * math.sin(y)
    return y


def many_parameters(a, b, c, d, e, f, g, h, i, j):
    return a * b + c * d - e * f + g * h * i + math.sin(j)


def optional_none(x, w=None):
    if w is None:
        w = 2.0
    return w * x * x


def string_mode(x, mode="sum"):
    if mode == "sum":
        return np.sum(x * x)
    return np.max(x * x)


def bool_flag(x, squared=True):
    if squared:
        return x * x
    return x


def dict_argument(params):
    return params["w"] * params["b"] + math.sin(params["w"])


def dict_of_arrays_argument(params):
    return np.sum(np.tanh(params["W"] @ params["x"]))


def raises_on_negative(x):
    if x < 0.0:
        raise ValueError("x must be non-negative")
    return math.sqrt(x) * x


def asserts_positive(x):
    assert x > 0.0, "x must be positive"
    return math.log(x) * x


# ==========================================================================
# signatures

def star_args(x, *rest):  # REFUSE
    return x * x + sum(rest)


def star_kwargs(x, **options):  # REFUSE
    return x * options.get("scale", 2.0)


def positional_only(x, /, y=2.0):  # REFUSE
    return x * x * y


def make_loop_closures():
    fns = []
    for k in range(3):
        def fk(x, k=k):
            return x ** (k + 1)
        fns.append(fk)
    return fns


loop_closure_default = make_loop_closures()[2]


def partial_target(x, a):
    return a * math.sin(x)


partial_of_function = functools.partial(partial_target, a=3.0)
