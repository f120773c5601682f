"""numerical_grad and gradcheck: the referee must itself be right."""
import math
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from backprop_nb.derivatives import numerical_grad, gradcheck

@settings(max_examples=100, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5), c=st.floats(-5, 5), x=st.floats(-10, 10))
def test_numerical_grad_of_quadratics_is_exact_enough(a, b, c, x):
    assert numerical_grad(lambda t: a * t * t + b * t + c, x) == pytest.approx(2 * a * x + b, abs=1e-4)

def test_seed_examples():
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
