"""tc.utils.tensorboard.SummaryWriter: event files read back with TensorBoard's own reader,
summaries held against PyTorch's SummaryWriter, and the graph's module scopes."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.models import seed_cnn

RNG = np.random.default_rng(0)


@pytest.fixture
def writer_and_reader(tensorboard, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tinygrad_cnn.utils.tensorboard import SummaryWriter

    def read(directory=tmp_path):
        accumulator = EventAccumulator(str(directory), size_guidance={"tensors": 0, "images": 0, "histograms": 0})
        accumulator.Reload()
        return accumulator

    return SummaryWriter(str(tmp_path)), read


def test_scalars_histograms_images_and_text_are_read_back(writer_and_reader):
    writer, read = writer_and_reader
    for step in range(4):
        writer.add_scalar("loss/train", tc.tensor(1.0 / (step + 1)), step)
    values = RNG.standard_normal(500)
    writer.add_histogram("weights", tc.tensor(values), 3)
    writer.add_image("one", RNG.random((3, 6, 5)), 0)
    writer.add_images("batch", tc.rand(3, 1, 4, 4), 0)
    writer.add_image("gray", (RNG.random((6, 5)) * 255).astype(np.uint8), 0, dataformats="HW")
    writer.add_text("notes", "hello **world**", 1)
    writer.close()
    run = read()
    assert [(e.step, e.value) for e in run.Scalars("loss/train")] == [(s, pytest.approx(1 / (s + 1))) for s in range(4)]
    histogram = run.Histograms("weights")[0].histogram_value
    assert histogram.num == 500 and sum(histogram.bucket) == 500
    assert histogram.min == values.min() and histogram.max == values.max()
    image = run.Images("one")[0]
    assert (image.height, image.width) == (6, 5) and image.encoded_image_string.startswith(b"\x89PNG")
    assert (run.Images("batch")[0].height, run.Images("batch")[0].width) == (4, 12)  # a grid of three
    text = run.Tensors("notes/text_summary")[0].tensor_proto.string_val[0]
    assert text == b"hello **world**"


def test_summaries_match_pytorchs_summary_writer(torch, writer_and_reader, tmp_path):
    """The same calls through torch.utils.tensorboard give the same values."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    writer, read = writer_and_reader
    values, labels, predictions = RNG.standard_normal(300), RNG.integers(0, 2, 64), RNG.random(64)
    theirs = TorchWriter(str(tmp_path / "torch"))
    for w in (writer, theirs):
        w.add_scalar("s", 0.25, 1)
        w.add_histogram("h", values, 2)
        w.add_histogram("h_numpy_bins", values, 2, bins="auto")
        w.add_pr_curve("pr", labels, predictions, 3)
        w.close()
    ours_run, their_run = read(), read(tmp_path / "torch")
    assert ours_run.Scalars("s")[0].value == their_run.Scalars("s")[0].value
    for tag in ("h", "h_numpy_bins"):
        a, b = ours_run.Histograms(tag)[0].histogram_value, their_run.Histograms(tag)[0].histogram_value
        assert list(a.bucket) == list(b.bucket) and np.allclose(a.bucket_limit, b.bucket_limit)
        assert (a.num, a.min, a.max) == (b.num, b.min, b.max) and a.sum == pytest.approx(b.sum)
    a, b = ours_run.Tensors("pr")[0].tensor_proto, their_run.Tensors("pr")[0].tensor_proto
    assert np.allclose(a.float_val, b.float_val) and a.tensor_shape == b.tensor_shape


def test_graph_holds_the_module_scopes(writer_and_reader):
    writer, read = writer_and_reader
    model = seed_cnn()
    writer.add_graph(model, tc.randn(2, 1, 28, 28))
    writer.close()
    graph = read().Graph()
    names = {node.name: node for node in graph.node}
    assert "Sequential/0/Conv2d_0" in names and "Sequential/0/weight" in names and "input/input.0" in names
    conv = names["Sequential/0/Conv2d_0"]
    assert list(conv.input) == ["input/input.0", "Sequential/0/weight", "Sequential/0/bias"]
    scopes = {name.split("/")[1] for name in names if name.startswith("Sequential/")}
    assert scopes == {str(i) for i in range(len(model))}  # one scope per layer
    assert [d.size for d in conv.attr["_output_shapes"].list.shape[0].dim] == [2, 32, 26, 26]
    assert any(node.op == "IO Node" and node.name.startswith("output/") for node in graph.node)


def test_add_scalars_hparams_embedding_and_figure(writer_and_reader, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    writer, read = writer_and_reader
    writer.add_scalars("loss", {"train": 1.0, "test": 2.0}, 0)
    writer.add_hparams({"lr": 0.1, "optimizer": "sgd", "nesterov": True}, {"hparam/accuracy": 0.9}, run_name="h")
    writer.add_embedding(tc.randn(5, 3), metadata=["a", "b", "c", "d", "e"], label_img=tc.rand(5, 1, 4, 4))
    figure = plt.figure(figsize=(2, 1))
    plt.plot([0, 1], [1, 0])
    writer.add_figure("figure", figure, 0)
    writer.close()
    assert read(tmp_path / "loss_train").Scalars("loss")[0].value == 1.0
    assert read(tmp_path / "loss_test").Scalars("loss")[0].value == 2.0
    hparams_run = read(tmp_path / "h")
    assert hparams_run.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)
    assert set(hparams_run.PluginTagToContent("hparams")) == {"_hparams_/experiment", "_hparams_/session_start_info",
                                                              "_hparams_/session_end_info"}
    assert (tmp_path / "00000" / "default" / "tensors.tsv").read_text().count("\n") == 5
    assert "metadata_path" in (tmp_path / "projector_config.pbtxt").read_text()
    assert read().Images("figure")[0].height == 100


def test_the_main_job_logs_to_tensorboard(tensorboard, small_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tinygrad_cnn import train
    assert train.main(["--data-root", str(small_data), "--out", str(tmp_path), "--epochs", "2", "--batch-size", "32",
                       "--tensorboard"]) == 0
    run = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"histograms": 0})
    run.Reload()
    tags = run.Tags()
    assert {"loss/train", "loss/test", "accuracy/train", "accuracy/test", "learning_rate"} <= set(tags["scalars"])
    assert [e.step for e in run.Scalars("loss/test")] == [1, 2]
    assert "weights/0.weight" in tags["histograms"] and tags["graph"]
