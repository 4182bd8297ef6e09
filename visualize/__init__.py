"""Pictures of tinygrad_cnn computation graphs (``from visualize import draw_graph``) and the
interactive explorer (``visualize.to_html``, with ``visualize.record`` for values and gradients)."""
from .explorer import to_html
from .graph import GraphOptions, draw_graph, make_dot, operation_label
from .output import GraphvizNotFoundError, save
from .recording import Recording, record

__all__ = ["draw_graph", "make_dot", "GraphOptions", "save", "operation_label", "GraphvizNotFoundError",
           "to_html", "record", "Recording"]
