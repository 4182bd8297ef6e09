"""Draw the computation graph of a small model, before and after backward, and explore a step.

Run: python examples/visualize_graph.py
(writes graph_forward.svg, graph_backward.png, graph_modules.png and step.html: open it in a browser)
"""
import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import visualize
from tinygrad_cnn import Tensor, nn
from visualize import draw_graph, save

tc.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 14 * 14, 10),
)
images = Tensor(np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32))
loss = F.cross_entropy(model(images), Tensor([0, 1, 2, 3]))

# Every primitive with its settings, boxed by the module that made it, parameters named.
save(draw_graph(loss, show_saved=True), "graph_forward.svg")

# After backward: leaves show their gradient norm and are coloured by it (log scale).
loss.backward(retain_graph=True)
save(draw_graph(loss), "graph_backward.png")

# One node per layer: the overview of a big model.
save(draw_graph(loss, collapse_modules=True, rankdir="LR"), "graph_modules.png")

# The explorer: a step recorded (values and the gradients that arrived), one page to walk it.
with visualize.record() as recording:
    loss = F.cross_entropy(model(images), Tensor([0, 1, 2, 3]))
    loss.backward()
visualize.to_html(loss, "step.html", recording=recording, title="a small CNN")
print("wrote graph_forward.svg, graph_backward.png, graph_modules.png, step.html")
