# The same lines run on PyTorch and, with the import changed, on the engine of this course.
import torch
from torch import nn

torch.manual_seed(0)
x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = x.pow(3) - x
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
print(model)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(300):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 99:
        print(f"step {step + 1}: loss {loss.item():.6f}, grad_fn {loss.grad_fn.name()}")
print(model[0].weight.grad.shape, (model(x) > 0).sum().item(), model[2].bias.item())
