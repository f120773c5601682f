# The quickstart's shape: a Module with Flatten and Sequential, train and test loops, CrossEntropyLoss, SGD.
import torch
from torch import nn

torch.manual_seed(5)
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")

X_train, X_test = torch.randn(384, 3, 4), torch.randn(128, 3, 4)
def label(X):
    return (X[:, 0, :].sum(1) > X[:, 2, :].sum(1)).long() + (X[:, 1, 0] > 0.5).long()
y_train, y_test = label(X_train), label(X_test)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(12, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 3)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5e-2)


def train(X, y, model, loss_fn, optimizer, batch_size=32):
    size = len(X)
    model.train()
    for batch, start in enumerate(range(0, size, batch_size)):
        Xb, yb = X[start:start + batch_size].to(device), y[start:start + batch_size].to(device)
        pred = model(Xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            print(f"loss: {loss.item():>7f}  [{start + len(Xb):>5d}/{size:>5d}]")


def test(X, y, model, loss_fn):
    model.eval()
    with torch.no_grad():
        pred = model(X)
        test_loss = loss_fn(pred, y).item()
        correct = (pred.argmax(1) == y).type(torch.float).sum().item()
    print(f"Test Error: \n Accuracy: {(100 * correct / len(X)):>0.1f}%, Avg loss: {test_loss:>8f} \n")


for t in range(3):
    print(f"Epoch {t + 1}\n-------------------------------")
    train(X_train, y_train, model, loss_fn, optimizer)
    test(X_test, y_test, model, loss_fn)
print("Done!")
print(model.linear_relu_stack[0].weight.shape, model.linear_relu_stack[4].bias.grad is None)
