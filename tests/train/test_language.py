"""The language-model tasks train through the same runner as the image tasks and end with a sample."""
import pytest

from helpers import SHARED_DATA as ROOT
from lamina.tasks import get_task, runner

pytestmark = pytest.mark.skipif(not (ROOT / "03-text-lm" / "tinyshakespeare" / "input.txt").is_file(),
                                reason="tiny-shakespeare is not under the data root")


@pytest.mark.parametrize("task", ["shakespeare-gpt", "shakespeare-lstm"])
def test_language_task_trains_and_samples(tmp_path, task):
    recipe = runner.load_recipe(task, [f"data.root={ROOT}", "data.steps_per_epoch=3", "data.block_size=16",
                                       "model.layers=1", "model.width=32", "train.epochs=1"])
    run, logs, trainer = runner.train(recipe, runs_root=tmp_path, log=lambda s: None)
    assert 3.0 < logs["val_loss"] < 4.5  # nats/char near log(65) = 4.17 after 3 steps, and finite
    assert 3.0 < logs["test_loss"] < 4.5  # the best checkpoint scored on the last 5% of the text
    data = get_task(task).build_data(recipe)  # 90% train, then 5% val and 5% test, apart
    n = len(data.train.ids) + len(data.val.ids) + len(data.test.ids)
    assert len(data.train.ids) == int(0.9 * n) and abs(len(data.val.ids) - len(data.test.ids)) <= 1
    info = runner.DataInfo(**run.read_config()["data_info"])
    assert len(info.classes) == 65
    text = get_task(task).sample(trainer.model, info)
    assert text.startswith("ROMEO:\n") and len(text) == 307
