"""Look inside a network while it trains, with PyTorch's hooks: a forward hook per layer
records what fraction of its outputs are zero, a full backward hook the norm of the gradient
leaving it, a tensor hook clips one activation's gradient, and ``retain_grad`` keeps an
intermediate gradient.

Run: python examples/hooks.py
"""
import tinygrad_cnn as torch
from tinygrad_cnn import nn


def main() -> dict[str, dict[str, float]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))
    report: dict[str, dict[str, float]] = {}

    def forward_hook(module, inputs, output):
        report.setdefault(name_of[module], {})["zeros"] = (output == 0).float().mean().item()

    def backward_hook(module, grad_input, grad_output):
        report.setdefault(name_of[module], {})["grad_out_norm"] = grad_output[0].norm().item()

    name_of = {module: name for name, module in model.named_children()}
    handles = [m.register_forward_hook(forward_hook) for m in model]
    handles += [m.register_full_backward_hook(backward_hook) for m in model]

    images, labels = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    features = model[1](model[0](images))
    features.retain_grad()  # keep the gradient of this intermediate result
    features.register_hook(lambda grad: grad.clamp(-1e-3, 1e-3))  # clip what flows back through it
    logits = model[4](model[3](model[2](features)))
    nn.functional.cross_entropy(logits, labels).backward()
    for handle in handles:
        handle.remove()

    print(f"{'layer':>6} {'zeros':>7} {'|grad out|':>11}")
    for name, row in report.items():
        print(f"{name:>6} {row.get('zeros', 0):7.1%} {row.get('grad_out_norm', float('nan')):11.2e}")
    print(f"largest retained gradient of the ReLU's output: {features.grad.abs().max().item():.2e} "
          "(retain_grad keeps what the other hooks return, as in PyTorch)")
    return report


if __name__ == "__main__":
    main()
