"""The cold-start child (bench/cold.py): it reports the status, whether boto3 was loaded, and
how long the handler's first call took after its imports."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench import cold


def test_the_child_reports_status_and_the_first_calls_milliseconds(tmp_path: Path) -> None:
    """Given a handler whose first call sleeps 50 ms, when the cold-start child runs it, then
    it reports the status, no boto3, and a first call of at least 50 ms within the total."""
    (tmp_path / "app.py").write_text(
        "import time\n"
        "def lambda_handler(event, context):\n"
        "    time.sleep(0.05)\n"
        "    return {'statusCode': event['status']}\n"
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"status": 201}))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path)}

    elapsed, _, (status, boto3_loaded, first_call) = cold._timed_run(
        cold.FUNCTION_CHILD, ["app", str(event), cold.CONTEXT_MODULE], env
    )

    assert status == "201"
    assert boto3_loaded == "False"
    assert 50 <= float(first_call) < elapsed
