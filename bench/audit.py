#!/usr/bin/env python3
"""Benchmark `botsecrets audit` on a repository with a long history.

Builds a git repository of 20 encrypted YAML files (10 secrets each) with
500 commits of history per file (10,000 commits, each touching one file):
every version is a real `botsecrets set` of one value, and every 50th a
data-key `rotate`, so each of the 10,000 historical versions is distinct and
must be decrypted. The history is written with `git fast-import` (commit
dates spread over the last ~70 days), then `botsecrets audit` is timed
(best of N) with the key, and once without (ciphertext only).

Usage: python3 bench/audit.py [--files 20] [--commits 500] [--repeat 3]
Needs: git; builds the release binary itself.
Goal (issue #13): audit of 20 files x 500 commits in under 10 seconds.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile
import time

from release import release_binary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = os.path.join(ROOT, "testdata", "sops", "age-key.txt")
RECIPIENT = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"
SECRETS = 10


def env_for(home, key=True):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOTSECRETS_", "SOPS_AGE"))}
    env.update({
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    if key:
        env["BOTSECRETS_AGE_KEY_FILE"] = KEY
    return env


def versions_of(bs, repo, name, commits, env):
    """The text of each of `commits` versions of secrets/NAME, oldest first."""
    path = os.path.join(repo, "secrets", name)
    lines = [f"bot_{name[:-5]}:"]
    for k in range(SECRETS):
        lines.append(f"  key_{k}: sk-live-{name}-{k}-initial")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([bs, "encrypt", "--in-place", path], env=env, check=True)
    out = []
    for v in range(commits):
        if v > 0:
            if v % 50 == 0:
                cmd = [bs, "rotate", path]
                data = None
            else:
                cmd = [bs, "set", path, f"bot_{name[:-5]}.key_{v % SECRETS}", "--stdin"]
                data = f"sk-live-{name}-{v}-rotated".encode()
            subprocess.run(cmd, env=env, input=data, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def fast_import(repo, files, versions, commits, env):
    """One commit per (version, file), dated ten minutes apart, ending now."""
    total = commits * len(files)
    start = int(time.time()) - total * 600
    stream = bytearray()
    mark = 0
    marks = {}
    for i, name in enumerate(files):
        for v, data in enumerate(versions[name]):
            mark += 1
            marks[(name, v)] = mark
            stream += b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n"
    rules = open(os.path.join(repo, ".botsecrets.yaml"), "rb").read()
    n = 0
    for v in range(commits):
        for name in files:
            when = start + n * 600
            msg = f"{name} version {v}".encode()
            stream += b"commit refs/heads/main\n"
            stream += b"author Bench Bot <bench@example.com> %d +0000\n" % when
            stream += b"committer Bench Bot <bench@example.com> %d +0000\n" % when
            stream += b"data %d\n" % len(msg) + msg + b"\n"
            if n == 0:
                stream += b"M 100644 inline .botsecrets.yaml\ndata %d\n" % len(rules) + rules + b"\n"
            stream += b"M 100644 :%d secrets/%s\n\n" % (marks[(name, v)], name.encode())
            n += 1
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, env=env,
                   input=bytes(stream), check=True)
    subprocess.run(["git", "reset", "-q"], cwd=repo, env=env, check=True)


def timed(cmd, repo, env, repeat):
    best = None
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=repo, env=env, capture_output=True)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode()}")
        best = dt if best is None else min(best, dt)
        out = r.stdout
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--commits", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bs = release_binary()
    tmp = tempfile.mkdtemp(prefix="botsecrets-audit-bench-")
    try:
        home = os.path.join(tmp, "home")
        repo = os.path.join(tmp, "repo")
        os.makedirs(os.path.join(repo, "secrets"))
        os.makedirs(home)
        env = env_for(home)
        subprocess.run(["git", "init", "-q", "-b", "main", repo], env=env, check=True)
        with open(os.path.join(repo, ".botsecrets.yaml"), "w") as f:
            f.write("creation_rules:\n  - path_regex: ^secrets/\n"
                    f"    age: {RECIPIENT}\n    rotation:\n      max_age: 30d\n")
        files = [f"bot{i:02d}.yaml" for i in range(args.files)]
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            futures = {n: pool.submit(versions_of, bs, repo, n, args.commits, env)
                       for n in files}
            versions = {n: f.result() for n, f in futures.items()}
        fast_import(repo, files, versions, args.commits, env)
        setup = time.perf_counter() - t0
        print(f"setup: {args.files} files x {args.commits} commits "
              f"({args.files * args.commits} commits) in {setup:.1f} s")

        took, out = timed([bs, "audit", "--json"], repo, env, args.repeat)
        doc = json.loads(out)
        secrets = sum(len(f["secrets"]) for f in doc["files"])
        versions_seen = sum(f["versions"] for f in doc["files"])
        approx = sum(s["approximate"] for f in doc["files"] for s in f["secrets"])
        print(f"audit (with the key): {took:.2f} s for {len(doc['files'])} files, "
              f"{versions_seen} versions decrypted, {secrets} secrets "
              f"({approx} approximate), {len(doc['overdue'])} overdue "
              f"[goal < 10 s: {'met' if took < 10 else 'NOT met'}]")
        took, _ = timed([bs, "audit", "--json"], repo, env_for(home, key=False), args.repeat)
        print(f"audit (no key, ciphertext only): {took:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
