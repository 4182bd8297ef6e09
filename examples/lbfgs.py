"""Fit a model with L-BFGS, the quasi-Newton optimiser that takes a closure: logistic
regression on two Gaussian blobs, with a strong-Wolfe line search. L-BFGS converges in a
handful of steps where SGD needs hundreds.

Run: python examples/lbfgs.py
"""
import tinygrad_cnn as torch
from tinygrad_cnn import nn


def main() -> tuple[float, float]:
    """Return the final loss and the training accuracy."""
    torch.manual_seed(0)
    labels = torch.randint(0, 2, (400,))
    points = torch.randn(400, 2) + (labels.float() * 2 - 1).unsqueeze(1) * torch.tensor([1.5, 1.0])
    model = nn.Linear(2, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")

    evaluations = 0

    def closure():
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = loss_fn(model(points).squeeze(1), labels.float()) + 1e-3 * model.weight.pow(2).sum()
        loss.backward()
        return loss

    for step in range(5):
        loss = optimizer.step(closure)
        print(f"step {step}: loss {loss.item():.6f} ({evaluations} evaluations of the closure so far)")
    with torch.no_grad():
        accuracy = ((model(points).squeeze(1) > 0).long() == labels).float().mean().item()
    final = closure().item()
    print(f"final loss {final:.6f}, training accuracy {accuracy:.1%}")
    return final, accuracy


if __name__ == "__main__":
    main()
