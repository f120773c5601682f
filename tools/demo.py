"""Interim `make demo`: a tiny two-layer network on the scalar engine learns XOR (replaced by `backprop-nb train`)."""
import random
from backprop_nb.autograd import Value, dot, sum_values

random.seed(0)
X, Y = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)], [0.0, 1.0, 1.0, 0.0]
hidden = [([Value(random.uniform(-1, 1)) for _ in range(2)], Value(0.0)) for _ in range(4)]
out_w, out_b = [Value(random.uniform(-1, 1)) for _ in range(4)], Value(0.0)
params = [p for w, b in hidden for p in (*w, b)] + out_w + [out_b]

def predict(x):
    h = [dot(w, x, b).tanh() for w, b in hidden]
    return dot(out_w, h, out_b)

for step in range(301):
    loss = sum_values((predict(x) - y) ** 2 for x, y in zip(X, Y))   # the seed's sum of squared errors
    for p in params: p.grad = 0.0
    loss.backward()
    for p in params: p.data -= 0.1 * p.grad                           # w <- w - lr * grad
    if step % 50 == 0: print(f"step {step:3d}  loss {loss.data:.5f}")
print("predictions:", [round(predict(x).data, 3) for x in X], "targets:", Y)
