"""``ecgscope demo`` end to end in a temporary folder."""

from __future__ import annotations

import json
import re

from ecgscope.cli.app import main


def test_demo_end_to_end(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"beats found\s+\d+ of \d+ true beats", out)
    assert "AF episode      found" in out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["sim-demo-1.html", "sim-demo-1.json", "sim-demo-1.pdf"]
    data = json.loads((tmp_path / "sim-demo-1.json").read_text())
    assert any(e["rhythm"] == "AF" for e in data["rhythm"])
    assert (tmp_path / "sim-demo-1.pdf").read_bytes().startswith(b"%PDF-")
