"""Build the release binary and return its path, for the bench scripts.

The path comes from cargo's own build messages rather than being assumed:
builds are for an explicit target (`.cargo/config.toml`), so the binary is
under target/<host tuple>/release/, and CARGO_TARGET_DIR or
CARGO_BUILD_TARGET may move it.
"""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def release_binary():
    """`cargo build --release` and the path of the botsecrets executable."""
    out = subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "botsecrets",
         "--message-format=json-render-diagnostics"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("cargo build reported no botsecrets executable")
