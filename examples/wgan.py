"""A Wasserstein GAN with weight clipping (Arjovsky et al., 2017) as PyTorch programs write it:
the critic's weights are clipped through ``p.data.clamp_``, the two networks take turns with
RMSprop. The data are eight Gaussians on a ring, so it trains in seconds.

Run: python examples/wgan.py [--iterations 800]   (about ten seconds)
"""
import argparse
import math

import tinygrad_cnn as torch
from tinygrad_cnn import nn


def ring_of_gaussians(n: int) -> torch.Tensor:
    """n points near eight centres on the unit circle."""
    angles = torch.randint(0, 8, (n,)).float() * (2 * math.pi / 8)
    centres = torch.stack([angles.cos(), angles.sin()], dim=1)
    return centres + 0.05 * torch.randn(n, 2)


def mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, outputs))


def main(iterations: int = 800, batch: int = 128, clip: float = 0.05, critic_steps: int = 5) -> float:
    """Train; return the mean distance of generated points to the unit circle (0 on the ring)."""
    torch.manual_seed(0)
    generator, critic = mlp(2, 2), mlp(2, 1)
    opt_g = torch.optim.RMSprop(generator.parameters(), lr=5e-4)
    opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-4)
    for iteration in range(iterations):
        for _ in range(critic_steps):
            real = ring_of_gaussians(batch)
            fake = generator(torch.randn(batch, 2)).detach()
            loss_c = critic(fake).mean() - critic(real).mean()  # minus the Wasserstein estimate
            opt_c.zero_grad()
            loss_c.backward()
            opt_c.step()
            for p in critic.parameters():
                p.data.clamp_(-clip, clip)  # the Lipschitz constraint, by clipping
        loss_g = -critic(generator(torch.randn(batch, 2))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if iteration % 200 == 0 or iteration == iterations - 1:
            with torch.no_grad():
                samples = generator(torch.randn(1000, 2))
                off_ring = (samples.norm(dim=1) - 1).abs().mean().item()
            print(f"iteration {iteration:4d}: Wasserstein estimate {-loss_c.item():.4f}, "
                  f"mean distance of samples to the ring {off_ring:.3f}")
    return off_ring


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=800)
    main(parser.parse_args().iterations)
