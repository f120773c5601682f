# The same model trained by torch.optim.Adam; the learning rate halved through param_groups.
import math
import torch

torch.manual_seed(2)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for t in range(600):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item(), optimizer.param_groups[0]['lr'])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if t % 200 == 199:
        for group in optimizer.param_groups:
            group['lr'] *= 0.5

print([f"{name}: {tuple(p.shape)}" for name, p in model.named_parameters()])
print(f"bias {model[0].bias.item():.5f}, weights {[round(w, 5) for w in model[0].weight.flatten().tolist()]}")
