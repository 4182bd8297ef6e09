"""The public node API that backward, visualize and other graph readers use."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.autograd import TensorSpec, is_recording_creation_sites, record_creation_sites


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)

    def forward(self, x):
        return self.conv(x).relu()  # the line creation sites point at


def test_output_specs_and_output_nr_describe_every_output():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    values, indices = x.max(dim=1)
    node = values.grad_fn
    assert node is indices.grad_fn or indices.grad_fn is None  # integer outputs are not recorded
    assert node.output_specs == (TensorSpec((2,), np.dtype(np.float64)), TensorSpec((2,), np.dtype(np.int64)))
    assert values.output_nr == 0 and x.output_nr == 0
    assert node.name == "MaxDim" and node.inputs == (x,)


def test_settings_and_settings_without():
    x = Tensor(np.zeros((1, 1, 4, 4), np.float32), requires_grad=True)
    node = F.max_pool2d(x, 2).grad_fn
    assert node.settings == {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0), "dilation": (1, 1),
                             "ceil_mode": False}
    assert node.settings_without("stride", "padding", "dilation", "ceil_mode") == {"kernel_size": (2, 2)}
    assert node.settings["stride"] == (2, 2)  # settings_without copies, never edits


def test_module_and_module_path_name_where_a_node_ran():
    model = nn.Sequential(nn.Sequential(Block(), nn.Flatten()), nn.Linear(12, 2))
    out = model(Tensor(np.zeros((1, 2, 4, 4), np.float32)))
    assert out.grad_fn.module is model[1] and out.grad_fn.module_path == "1"
    relu = out.grad_fn
    while relu.name != "Relu":
        relu = next(relu.parents())
    conv = next(relu.parents())
    assert relu.module_path == "0.0" and conv.module_path == "0.0.conv"
    assert conv.module is model[0][0].conv
    loose = Tensor([1.0], requires_grad=True) * 2
    assert loose.grad_fn.module is None and loose.grad_fn.module_path is None
    assert nn.Linear(2, 2)(Tensor(np.zeros((1, 2), np.float32))).grad_fn.module_path == ""


def test_creation_sites_are_recorded_only_when_asked():
    x = Tensor([1.0], requires_grad=True)
    assert (x * 2).grad_fn.creation_site is None and not is_recording_creation_sites()
    with record_creation_sites():
        assert is_recording_creation_sites()
        y = x * 2; line = sys._getframe().f_lineno  # noqa: E702
        out = Block()(Tensor(np.zeros((1, 2, 3, 3), np.float32)))
    assert not is_recording_creation_sites()
    assert y.grad_fn.creation_site == f"{__file__}:{line}"
    forward_line = Block.forward.__code__.co_firstlineno + 1
    assert out.grad_fn.creation_site == f"{__file__}:{forward_line}"  # the user's line, not nn's


def test_saved_tensors_are_the_one_place_for_backward_state():
    """No primitive of the seed CNN (with batch norm) keeps state in ad hoc attributes."""
    from tinygrad_cnn.autograd import topological_order
    from tinygrad_cnn.models import seed_cnn

    model = seed_cnn(batch_norm=True)
    loss = F.cross_entropy(model(tc.randn(2, 1, 28, 28)), Tensor([1, 2]))
    nodes = topological_order([loss.grad_fn])
    assert {n.name for n in nodes} >= {"Conv2d", "BatchNorm", "MaxPool2d", "LogSoftmax", "NllLoss", "MatMul", "Add"}
    allowed = {"needs_input_grad", "_saved", "inputs", "next_functions", "settings", "scope", "_outputs",
               "output_specs", "_versions"}
    for node in nodes:
        assert set(vars(node)) <= allowed, node.name


HYPER_PARAMETERS = (bool, int, float, str, tuple, type(None), np.dtype)


@pytest.mark.parametrize("name", ["seed_cnn", "lenet5", "resnet20", "resnet18", "vgg11", "mobilenet_v2",
                                  "densenet121", "squeezenet1_1"])
def test_no_node_keeps_an_array_in_its_settings(name):
    """One channel for backward state: ``settings`` holds hyper-parameters only, in forward and in
    the ``create_graph`` backward graphs of the zoo models. Running statistics, batch norm's
    mean and invstd, pooling's argmax and conv's im2col matrix are inputs or saved values."""
    from tinygrad_cnn import models
    from tinygrad_cnn.autograd import topological_order

    tc.manual_seed(0)
    grey = name in ("seed_cnn", "lenet5")
    model = models.seed_cnn(batch_norm=True) if name == "seed_cnn" else getattr(models, name)(
        **({} if grey else {"num_classes": 10}))
    x = tc.randn(2, 1 if grey else 3, 28 if grey else 32, 28 if grey else 32, requires_grad=True)
    loss = F.cross_entropy(model(x), Tensor([1, 2]))
    (grad,) = tc.autograd.grad(loss, x, create_graph=True)
    nodes = topological_order([loss.grad_fn, grad.grad_fn])
    assert {"BatchNormBackward", "PoolScatter"} & {n.name for n in nodes} or name in ("lenet5", "vgg11")
    for node in nodes:
        for key, value in node.settings.items():
            assert isinstance(value, HYPER_PARAMETERS), f"{node.name}.settings[{key!r}] is a {type(value).__name__}"
            assert not (isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value)), node.name


# --------------------------------------------------------------------------- thread defaults

def run_python(code, **env):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, **env})
    return json.loads(result.stdout)


BLAS_THREADS = ("from threadpoolctl import threadpool_info\n"
                "def blas(): return [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n")
STEP = ("x = tc.randn(8, 3, 12, 12)\n"
        "loss = tc.nn.Conv2d(3, 4, 3)(x).relu().sum()\n"
        "loss.backward()\n")


def test_by_default_every_core_and_no_busy_waiting_blas():
    code = ("import json, numpy\n" + BLAS_THREADS + "before = blas()\n"
            "import tinygrad_cnn as tc\n" "imported = blas()\n" + STEP +
            "print(json.dumps([before, imported, blas(), tc.get_num_threads()]))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    before, imported, after, threads = json.loads(result.stdout)
    assert imported == before  # importing alone changes nothing for other NumPy code
    assert after and all(n == 1 for n in after)  # BLAS workers never spin against ours
    assert threads == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value,expected", [("3", 3), ("1", 1), ("nonsense", None)])
def test_omp_num_threads_sets_the_default(value, expected):
    threads = run_python("import json, tinygrad_cnn as tc\nprint(json.dumps(tc.get_num_threads()))",
                         OMP_NUM_THREADS=value)
    assert threads == (expected or len(os.sched_getaffinity(0)))


def test_set_num_threads_overrides_the_default():
    threads, blas = run_python("import json, tinygrad_cnn as tc\n" + BLAS_THREADS + "tc.set_num_threads(1)\n"
                               + STEP + "print(json.dumps([tc.get_num_threads(), blas()]))")
    assert threads == 1 and all(n == 1 for n in blas)


def _plain(value) -> bool:
    """A hyper-parameter: a number, string, bool, None, dtype, memory format, slice, Ellipsis,
    an index array's marker, or a tuple or list of them."""
    from tinygrad_cnn.ops.shape import IndexArray

    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return value is None or value is Ellipsis or isinstance(
        value, (bool, int, float, str, np.dtype, type, np.number, slice, IndexArray, type(tc.channels_last)))


def _kept_arrays(nodes) -> list[str]:
    return sorted({f"{node.name}.{key}: {type(value).__name__}" for node in nodes
                   for key, value in (node.settings or {}).items() if not _plain(value)})


@pytest.mark.parametrize("name,shape", [("seed_cnn", (1, 28, 28)), ("lenet5", (1, 28, 28)), ("resnet20", (3, 32, 32)),
                                        ("resnet18", (3, 32, 32)), ("mobilenet_v2", (3, 32, 32)),
                                        ("densenet121", (3, 32, 32)), ("squeezenet1_1", (3, 64, 64)),
                                        ("vgg11", (3, 32, 32))])
def test_no_node_of_a_zoo_model_keeps_backward_state_in_its_settings(name, shape):
    """Issue 21: arrays backward reads travel through save_for_backward (version-checked and
    released) or as inputs (batch norm's running statistics, changed in place with a version
    bump); ``settings`` holds hyper-parameters only, in the forward graph of a training step
    and in the graph of its gradient taken with create_graph."""
    from tinygrad_cnn import models
    from tinygrad_cnn.autograd import topological_order

    model = getattr(models, name)()
    model.train()
    x = tc.randn(2, *shape, requires_grad=True)
    loss = F.cross_entropy(model(x), tc.tensor([0, 1]))
    (gradient,) = tc.autograd.grad(loss, [x], create_graph=True)
    nodes = topological_order([loss.grad_fn, gradient.grad_fn])
    assert len(nodes) > 20
    kept = _kept_arrays(nodes)
    assert not kept, f"settings that are not hyper-parameters: {kept}"
    batch_norms = [node for node in nodes if node.name == "BatchNorm"]
    assert all(isinstance(node.inputs[3], tc.Tensor) for node in batch_norms)  # running statistics are inputs


def test_indexing_and_scattering_keep_their_index_arrays_as_inputs():
    """The primitives that take an index (advanced indexing and its gradient, writes at an
    index, index_select, gather, scatter, scatter_add, index_add, reflection padding, an
    embedding) keep its arrays as inputs, in the forward graph and in create_graph's."""
    from tinygrad_cnn.autograd import topological_order

    x = tc.randn(4, 5, requires_grad=True)
    rows = tc.tensor([0, 2, 2])
    picked = x[rows] * 2 + x[:, tc.tensor([1, 3])].sum() + x.index_select(1, tc.tensor([4, 0])).sum()
    written = x.clone()
    written[tc.tensor([1, 3]), 0] = picked[:2, 0]
    scattered = x.scatter(1, tc.tensor([[0], [1], [2], [3]]), x[:, :1]) + x.scatter_add(
        0, tc.tensor([[1, 0, 2, 3, 1]]), x[:1]) + x.index_add(0, tc.tensor([3, 0]), x[:2])
    gathered = x.gather(1, tc.tensor([[4], [3], [2], [1]]))
    padded = F.pad(x[None], (2, 2), mode="reflect")
    embedded = F.embedding(tc.tensor([1, 1, 3]), x)
    loss = (picked.sum() + written.sum() + (scattered ** 2).sum() + gathered.sum() + (padded ** 2).sum()
            + (embedded ** 2).sum())
    (gradient,) = tc.autograd.grad(loss, [x], create_graph=True)
    nodes = topological_order([loss.grad_fn, gradient.grad_fn])
    names = {node.name for node in nodes}
    assert {"GetItem", "IndexAdd", "SetItem", "Scatter", "ScatterAdd", "GatherAlong"} <= names, names
    assert not _kept_arrays(nodes), _kept_arrays(nodes)
