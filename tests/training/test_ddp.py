"""DDP through torchrun (gloo on CPU): two ranks train a tiny model and end with the same weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_torchrun_two_ranks_agree(synthetic_db, write_config, tmp_path):
    from ecgscope.models.checkpoint import load_checkpoint
    from ecgscope.training.distributed import state_checksum

    folder, _ = synthetic_db
    cfg = write_config(tmp_path / "c.yaml", folder, tmp_path / "cache", epochs=2)
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "ecgscope", "train", str(cfg), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    ddp = json.loads((out / "ddp.json").read_text())
    assert ddp["world_size"] == 2 and len(ddp["checksums"]) == 2
    assert ddp["checksums"][0] == ddp["checksums"][1]
    model, card = load_checkpoint(out)
    assert state_checksum(model.state_dict()) == ddp["checksums"][0]
    assert card["training"]["fit"]["world_size"] == 2
