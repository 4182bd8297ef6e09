"""Define your own model as an nn.Module and train it with a plain PyTorch-style loop.

Run: python examples/define_your_own_model.py   (about ten seconds: a subset of Fashion-MNIST)
"""

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import FashionMNIST, transforms
from tinygrad_cnn.utils.data import DataLoader, Subset


class SmallNet(nn.Module):
    """Two convolutions with batch norm, then one linear layer."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.norm2 = nn.BatchNorm2d(32)
        self.head = nn.Linear(32 * 7 * 7, classes)

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        x = F.max_pool2d(F.relu(self.norm1(self.conv1(x))), 2)   # 16 x 14 x 14
        x = F.relu(self.norm2(self.conv2(x)))                     # 32 x 7 x 7
        return self.head(x.flatten(1))


if __name__ == "__main__":
    tc.manual_seed(0)
    tc.keep_freed_memory()
    normalize = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
    train = DataLoader(Subset(FashionMNIST(train=True, transform=normalize), range(6000)), batch_size=64, shuffle=True)
    test = DataLoader(Subset(FashionMNIST(train=False, transform=normalize), range(2000)), batch_size=500)

    model = SmallNet()
    print(model)
    print(model.summary())
    optimizer = optim.AdamW(model.parameters(), lr=3e-3)
    for epoch in range(2):
        model.train()
        for images, labels in train:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with tc.no_grad():
            correct = sum(int((model(x).argmax(1).numpy() == y.numpy()).sum()) for x, y in test)
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}, test accuracy {correct / 2000:.1%}")
