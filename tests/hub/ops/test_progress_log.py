"""Long jobs log their progress when stderr is not a terminal, as the README says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers.embedded_hub import chorus, chorus_env


async def test_backup_piped_logs_its_progress(
    tmp_path: Path, mongo_uri: str, db_name: str, db: Any
) -> None:
    await db.messages.insert_many([{"_id": f"m{i}", "text": "x"} for i in range(3)])
    env = chorus_env(
        tmp_path,
        0,
        CHORUS_MONGO__URI=mongo_uri,
        CHORUS_MONGO__DATABASE=db_name,
        CHORUS_ARCHIVE__LOCAL_DIR=str(tmp_path / "archive"),
        CHORUS_LOGGING__LEVEL="INFO",
    )
    result = await chorus(env, "backup")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    progress = [r["msg"] for r in records if r["logger"] == "chorus.progress"]
    assert progress and "documents" in progress[-1], result.stderr
