"""`hssync config validate` as an admin uses it: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _hssync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_validate_accepts_the_demo_configuration():
    result = _hssync("config", "validate", str(ROOT / "config" / "demo.yaml"))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "warning" not in result.stderr


def test_validate_warns_about_several_portals_with_automatic_creation(tmp_path):
    path = tmp_path / "two-portals.yaml"
    path.write_text("portals: [1000001, 1000002]\n")
    result = _hssync("config", "validate", str(path))
    assert result.returncode == 0
    assert "warning: several portals" in result.stderr


def test_validate_refuses_removing_the_opt_out_mapping_with_the_reason(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "portals: [1]\ncontact_mappings: [{hubspot: hs_email_optout, contact: HasOptedOutOfEmail}]\n"
    )
    result = _hssync("config", "validate", str(path))
    assert result.returncode == 1
    assert "CAN-SPAM" in result.stderr


def test_validate_refuses_the_opt_out_field_in_another_letter_case(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "portals: [1]\ncontact_mappings:\n  - {hubspot: email, lead: Email}\n"
        "  - {hubspot: my_flag, lead: hasoptedoutofemail, contact: HASOPTEDOUTOFEMAIL}\n"
    )
    result = _hssync("config", "validate", str(path))
    assert result.returncode == 1
    assert "CAN-SPAM" in result.stderr


def test_schema_is_json():
    result = _hssync("config", "schema")
    assert json.loads(result.stdout)["title"] == "SyncConfig"
