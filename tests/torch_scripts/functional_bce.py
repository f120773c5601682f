# `import torch.nn.functional as F` and `from torch import nn`: a small classifier trained with a logits loss.
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(x)


torch.manual_seed(6)
X = torch.rand(200, 2) * 4 - 2
y = ((X ** 2).sum(1, keepdim=True) < 1.5).float()
net = Net()
print(net)
opt = torch.optim.SGD(net.parameters(), lr=0.5)
for epoch in range(200):
    logits = net(X)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 50 == 49:
        acc = ((logits > 0).float() == y).float().mean().item()
        print(f"epoch {epoch + 1} loss {loss.item():.5f} acc {acc:.3f}")
print(net.fc1.weight.grad.shape, net.fc2.bias.grad)
print(F.mse_loss(net(X).sigmoid(), y).item() < 0.25)
