"""Pictures of tinygrad_cnn computation graphs (``from visualize import draw_graph``)."""
from .graph import GraphOptions, draw_graph, operation_label
from .output import GraphvizNotFoundError, save

__all__ = ["draw_graph", "GraphOptions", "save", "operation_label", "GraphvizNotFoundError"]
