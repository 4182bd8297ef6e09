"""Bring a model file written for PyTorch across: only the imports change.

The code below is an ordinary PyTorch training script (an Inception-style CNN with
concatenated branches, residual additions, in-place activations, adaptive pooling, weight
initialisation, a one-cycle schedule and gradient clipping). In PyTorch its first lines read

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

Run: python examples/port_a_pytorch_model.py   (trains briefly on Fashion-MNIST when Debian's
dataset-fashion-mnist is installed, else on random data)
"""
import numpy as np

import tinygrad_cnn as torch
import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn

# ---------------------------------------------------------------- unchanged PyTorch code below


class Branches(nn.Module):
    """Three convolutions side by side, concatenated along the channels."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.b1 = nn.Conv2d(in_ch, out_ch, kernel_size=1)
        self.b3 = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(out_ch, out_ch, 3, padding="same"))
        self.pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_ch, out_ch, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.pool(x)], dim=1)


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        self.mixed = Branches(16, 8)
        self.bn = nn.BatchNorm2d(24)
        self.project = nn.Conv2d(16, 24, 1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(24, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.stem(x)
        out = self.bn(self.mixed(x))
        out += self.project(x)
        out = F.relu(out, inplace=True)
        out = F.max_pool2d(out, 2, ceil_mode=True)
        return self.head(out)


def train(images, labels, epochs=2, batch_size=64):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = Net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps = epochs * (len(images) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images))
        for start in range(0, len(images) - batch_size + 1, batch_size):
            index = order[start:start + batch_size]
            x, y = images[index].to(device), labels[index].to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch + 1}: last loss {loss.item():.3f}")
    return model


@torch.no_grad()
def accuracy(model, images, labels):
    model.eval()
    predictions = model(images).argmax(dim=1)
    return (predictions == labels).float().mean().item()


# ---------------------------------------------------------------- data (not part of the port)

def load_data(count=3000):
    try:
        from tinygrad_cnn.data import FashionMNIST, transforms
        from tinygrad_cnn.utils.data import DataLoader
        normalize = transforms.Compose([transforms.ToTensor(),
                                        transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
        train_set = FashionMNIST(train=True, transform=normalize)
        test_set = FashionMNIST(train=False, transform=normalize)
        def take(data, n):
            images, labels = next(iter(DataLoader(data, batch_size=n)))
            return images, labels
        return take(train_set, count), take(test_set, 1000)
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, count + 1000)
        images = rng.standard_normal((count + 1000, 1, 28, 28)).astype(np.float32) + labels[:, None, None, None] * 0.2
        return ((torch.tensor(images[:count]), torch.tensor(labels[:count])),
                (torch.tensor(images[count:]), torch.tensor(labels[count:])))


if __name__ == "__main__":
    torch.manual_seed(0)
    (train_x, train_y), (test_x, test_y) = load_data()
    model = train(train_x, train_y)
    print(f"test accuracy {100 * accuracy(model, test_x, test_y):.1f}%")
