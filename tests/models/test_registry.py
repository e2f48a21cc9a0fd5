"""Registry: names, unknown names, duplicates, registration on import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ecgscope.errors import ModelError
from ecgscope.models import BeatModel, create_model, list_models, model_class, register_model
from ecgscope.models import registry


def test_list_models_is_sorted_and_has_the_builtins():
    names = list_models()
    assert names == sorted(names)
    assert {"resnet1d", "inception_time", "transnet"} <= set(names)
    for name in names:
        assert model_class(name).architecture == name


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelError) as err:
        create_model("resnet50", in_leads=1, n_classes=4, window=256)
    assert "unknown model 'resnet50'" in str(err.value)
    assert all(name in str(err.value) for name in list_models())
    with pytest.raises(ModelError, match="unknown model"):
        model_class(None)


def test_missing_required_arguments():
    with pytest.raises(ModelError, match="missing window"):
        create_model("resnet1d", in_leads=1, n_classes=4)


def _toy_class():
    class Toy(BeatModel):
        variants = {"base": {}}

        def __init__(self, in_leads, n_classes, window, n_rr=0, variant="base", **kw):
            super().__init__(in_leads, n_classes, window, n_rr, variant, **kw)
            self.conv = torch.nn.Conv1d(in_leads, 3, 3, padding=1)
            self._build_head(3)

        def embed(self, x):
            return self.conv(x).mean(-1)

        @property
        def target_layer(self):
            return self.conv

    return Toy


def test_register_create_and_duplicate_name():
    name = "toy_test_model"
    try:
        cls = register_model(name)(_toy_class())
        assert name in list_models() and cls.architecture == name
        model = create_model(name, in_leads=2, n_classes=3, window=32, n_rr=2)
        assert model(torch.zeros(4, 2, 32), torch.ones(4, 2)).shape == (4, 3)
        register_model(name)(cls)  # the same class again (a module reload) is fine
        other = _toy_class()
        other.__qualname__ = "OtherToy"
        with pytest.raises(ModelError, match="already registered"):
            register_model(name)(other)
        with pytest.raises(ModelError, match="already registered"):
            register_model("resnet1d")(other)
    finally:
        registry._REGISTRY.pop(name, None)
    assert name not in list_models()


@pytest.mark.parametrize("bad", ["", "ResNet", " x", 3])
def test_invalid_names_are_refused(bad):
    with pytest.raises(ModelError, match="invalid"):
        register_model(bad)


def test_registration_happens_on_import_even_from_an_architecture_module():
    code = ("import ecgscope.models.transnet\n"
            "from ecgscope.models import list_models\n"
            "print(','.join(list_models()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert {"resnet1d", "inception_time", "transnet"} <= set(out.stdout.strip().split(","))


def test_keywords_of_the_wrong_type_give_a_model_error():
    with pytest.raises(ModelError, match="cannot build 'resnet1d'"):
        create_model("resnet1d", in_leads=1, n_classes=4, window=128, width="wide")
    with pytest.raises(ModelError, match="cannot build 'transnet'"):
        create_model("transnet", in_leads=1, n_classes=4, window=128, dropout=-1.0)
