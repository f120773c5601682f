# Ops of our own: torch.autograd.Function with ctx.save_for_backward, a non-tensor argument, a broadcast input.
import math
import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input ** 3

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 3 * input ** 2


class ScaledProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return scale * a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * ctx.scale * b, grad_output * ctx.scale * a, None


torch.manual_seed(3)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
a = torch.randn((), requires_grad=True)
b = torch.randn((), requires_grad=True)
c = torch.randn((), requires_grad=True)
d = torch.randn((), requires_grad=True)

cube = Cube.apply
learning_rate = 1e-6
for t in range(800):
    y_pred = a + b * x + ScaledProduct.apply(c, x ** 2, 0.5) + d * cube(x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None

print(f"Result: y = {a.item():.5f} + {b.item():.5f} x + {0.5 * c.item():.5f} x^2 + {d.item():.5f} x^3")
print(y_pred.grad_fn.next_functions[0][0].next_functions[1][0].name())
