# Autograd: gradients of a vector function, the graph's grad_fn, accumulation, retain_graph, no_grad and detach.
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)
print(a.grad, b.grad)

torch.manual_seed(0)
x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
bias = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + bias
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
print(f"loss = {loss.item():.6f}")
loss.backward(retain_graph=True)
print(w.grad)
print(bias.grad)
loss.backward()
print(bias.grad)
w.grad.zero_()
bias.grad.zero_()
print(w.grad.sum().item(), bias.grad.data.tolist())

print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + bias
print(z.requires_grad)
z_det = (torch.matmul(x, w) + bias).detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
