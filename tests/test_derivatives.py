"""numerical_grad and gradcheck: the referee must itself be right."""
import math, re
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from backprop_nb.derivatives import numerical_grad, gradcheck

@settings(max_examples=100, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5), c=st.floats(-5, 5), x=st.floats(-10, 10))
def test_numerical_grad_of_quadratics_is_exact_enough(a, b, c, x):
    assert numerical_grad(lambda t: a * t * t + b * t + c, x) == pytest.approx(2 * a * x + b, abs=1e-4)

def test_outline_examples():
    assert numerical_grad(lambda x: 2 * x + 7, 3.0) == pytest.approx(2.0)
    assert numerical_grad(lambda x: 3 * x ** 2 + 4 * x, 2.0) == pytest.approx(16.0)

def test_arrays_keep_their_shape():
    g = numerical_grad(lambda m: float((m ** 2).sum()), np.arange(6.0).reshape(2, 3))
    assert g.shape == (2, 3) and np.allclose(g, 2 * np.arange(6.0).reshape(2, 3))

def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"): numerical_grad(3.0, 1.0)
    with pytest.raises(ValueError, match="at least one input"): numerical_grad(math.sin)
    with pytest.raises(ValueError, match="eps must be positive"): numerical_grad(math.sin, 1.0, eps=0)
    with pytest.raises(TypeError, match="one number"): numerical_grad(lambda x: [x, x], 1.0)
    with pytest.raises(TypeError, match="input 0 must be a Value or Tensor"): gradcheck(lambda x: x, 1.0)

# ---------------------------------------------------------------- argument checks shared by every chapter
from backprop_nb.derivatives import check_int, check_number

@settings(max_examples=100, deadline=None)
@given(v=st.integers(-10**6, 10**6), low=st.none() | st.integers(-100, 100), high=st.none() | st.integers(-100, 100))
def test_check_int_accepts_exactly_the_range(v, low, high):
    inside = (low is None or v >= low) and (high is None or v <= high)
    for kind in (int, np.int64):
        if inside: assert check_int('f', 'n', kind(v), low, high) == v and type(check_int('f', 'n', kind(v), low, high)) is int
        else:
            with pytest.raises(ValueError, match=f"f: n must be .*, got {v}$"): check_int('f', 'n', kind(v), low, high)

@pytest.mark.parametrize('bad', [True, False, 2.0, 2.5, '3', None, np.float64(1.0), [1]])
def test_check_int_refuses_other_kinds(bad):
    with pytest.raises(TypeError, match=f"fn: k must be an integer, got {type(bad).__name__}"): check_int('fn', 'k', bad)

@settings(max_examples=100, deadline=None)
@given(v=st.floats(allow_nan=True, allow_infinity=True), low=st.none() | st.floats(-10, 10), high=st.none() | st.floats(-10, 10),
       low_open=st.booleans(), high_open=st.booleans(), finite=st.booleans())
def test_check_number_accepts_exactly_the_interval(v, low, high, low_open, high_open, finite):
    inside = (not math.isnan(v) and not (finite and math.isinf(v))
              and (low is None or (v > low if low_open else v >= low)) and (high is None or (v < high if high_open else v <= high)))
    call = lambda: check_number('f', 'x', v, low, high, low_open, high_open, finite)
    if inside: assert call() == v and type(call()) is float
    else:
        with pytest.raises(ValueError, match=r"f: x must be in [\[(].*, .*[\])], got "): call()

@pytest.mark.parametrize('bad', [True, '0.1', None, 1j, np.zeros(2)])
def test_check_number_refuses_other_kinds(bad):
    with pytest.raises(TypeError, match=f"fn: lr must be a number, got {type(bad).__name__}"): check_number('fn', 'lr', bad)

def test_check_number_message_is_an_interval():
    with pytest.raises(ValueError, match=re.escape("SGD: betas[1] must be in [0.0, 1.0), got 1.0")):
        check_number('SGD', 'betas[1]', 1.0, 0.0, 1.0, high_open=True)
    with pytest.raises(ValueError, match=re.escape("f: lr must be in [0, inf), got inf")): check_number('f', 'lr', math.inf, low=0)
    assert check_number('f', 'lr', math.inf, low=0, finite=False) == math.inf

def test_gradcheck_leaves_inputs_as_they_were_even_when_f_raises():
    from backprop_nb.autograd import Value
    x = Value(2.0); x.grad = 0.5
    def f(v):
        if v.data != 2.0: raise RuntimeError("boom")   # fails during the numerical part
        return v * v
    with pytest.raises(RuntimeError, match="boom"): gradcheck(f, x)
    assert (x.data, x.grad) == (2.0, 0.5)
