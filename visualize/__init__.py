"""Pictures of tinygrad_cnn computation graphs (``from visualize import draw_graph``)."""
from .graph import GraphOptions, draw_graph, make_dot, operation_label
from .output import GraphvizNotFoundError, save

__all__ = ["draw_graph", "make_dot", "GraphOptions", "save", "operation_label", "GraphvizNotFoundError"]
