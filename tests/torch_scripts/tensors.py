# Tensors: creating them, their attributes, indexing, joining, arithmetic, and the bridge to numpy.
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data, x_data.dtype)
np_array = np.array([[0.5, 1.5], [2.5, 3.5]], dtype=np.float32)
x_np = torch.from_numpy(np_array)
print(x_np)
x_ones = torch.ones_like(x_data)
print(f"Ones tensor:\n{x_ones}")

shape = (2, 3)
print(torch.zeros(shape), torch.ones(shape))
print(torch.full((2, 2), 7), torch.full((2,), 0.5))
print(torch.eye(3))
print(torch.arange(5), torch.arange(0, 1, 0.25))
print(torch.linspace(-1, 1, 5))

t = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
print(f"Shape: {t.shape}, dtype: {t.dtype}, device: {t.device}")
device = "cuda" if torch.cuda.is_available() else "cpu"
t = t.to(device)
print(f"first row {t[0]}, middle column {t[:, 1]}, last column {t[..., -1]}")
t[:, 1] = 0
print(t)
print(torch.cat([t, t], dim=1).shape, torch.stack([t, t]).shape)
print(t.t(), t.T.shape)
print(t.unsqueeze(0).shape, t.unsqueeze(0).squeeze(0).shape, torch.flatten(t).shape, t.view(3, 2).shape)

y1 = t @ t.T
y2 = t.matmul(t.T)
y3 = torch.mm(t, t.t())
print(y1, torch.allclose(y1, y2) and torch.allclose(y2, y3))
print(t * t, t.sum().item(), t.sum(dim=0), t.mean(1))
print(t == 0, (t > 2).sum().item(), t != t)
values, indices = t.max(1)
print(values, indices)
print(torch.max(t, 0)[1], t.argmax(1))
print(t.reshape(-1).tolist(), t.numpy().dtype)
print(torch.exp(torch.tensor([0.0, 1.0])), torch.sin(torch.tensor([0.5])), torch.cos(torch.tensor([0.5])))
print(torch.tensor(3.5).item(), torch.tensor([1, 2, 3]).float().mean().item())
print(torch.tensor([[2, 0], [0, 3]]).pow(2), torch.clamp(torch.tensor([-1.0, 0.5, 2.0]), min=0.0, max=1.0))
