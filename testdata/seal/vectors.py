#!/usr/bin/env python3
"""Seal (version 1) and MAC digests computed independently of botsecrets,
from the encodings documented in docs/format.md ("The seal", "MAC"), with
Python's hashlib. src/seal.rs and src/crypto/mac.rs pin these digests
(tests `*_match_the_python_vectors`): a change of one byte of either
encoding fails them. Run: python3 testdata/seal/vectors.py
"""
import hashlib
import struct


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def field(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def path(segs):
    out = u32(len(segs))
    for s in segs:
        if isinstance(s, int):
            out += b"\x01" + u64(s)
        else:
            out += b"\x00" + field(s)
    return out


KIND = {"enc": 1, "clear": 2, "empty": 3, "null": 4, "map": 5, "list": 6,
        "enc_comment": 7, "clear_comment": 8}


def seal(meta, items):
    out = b"\x01" + field("botsecrets seal")
    out += b"R" + field(meta["option"]) + field(meta["value"])
    out += bytes([meta["mac_only"]])
    out += b"K" + u32(meta["threshold"]) + u32(len(meta["groups"]))
    for group in meta["groups"]:
        out += u32(len(group))
        for kind, ident in group:
            out += field(kind) + field(ident)
    out += b"S" + u32(len(meta["scopes"]))
    for name, paths, readers, key, blob in meta["scopes"]:
        out += field(name) + u32(len(paths))
        for p in paths:
            out += field(p)
        out += u32(len(readers))
        for r in readers:
            out += field(r)
        out += field(hashlib.sha512(key.encode()).digest())
        out += field(hashlib.sha512(blob.encode()).digest())
    out += b"L"
    comment_rule = meta["option"].endswith("comment_regex")
    for kind, doc, segs, tag, value in items:
        out += bytes([KIND[kind]]) + u32(doc) + path(segs) + field(tag)
        if kind == "clear":
            keep = not meta["mac_only"]
        elif kind == "clear_comment":
            keep = not meta["mac_only"] or comment_rule
        else:
            continue
        out += (b"\x01" + field(value)) if keep else b"\x00"
    out += b"\x00"
    return hashlib.sha512(out).hexdigest().upper()


# Every kind, multi-segment paths, list indices, a second document, a
# non-ASCII key, a value longer than the encoder's buffer, and enough items
# to cross many buffer boundaries.
ITEMS = [
    ("clear_comment", 0, [], "", " top comment"),
    ("enc", 0, ["a", "b", "c"], "str", "ignored"),
    ("clear", 0, ["servers", 2, "port_unencrypted"], "int", "8080"),
    ("empty", 0, ["e_unencrypted"], "str", ""),
    ("enc_comment", 0, ["a", "b"], "comment", ""),
    ("map", 0, ["m"], "", ""),
    ("list", 0, ["x", 0, "l"], "", ""),
    ("clear", 0, ["ключ_unencrypted"], "str", "значение"),
    ("clear", 0, ["long_unencrypted"], "str", "v" * 10000),
    ("null", 1, ["n"], "", ""),
] + [("enc", 0, ["bots", i // 5, "k%d" % (i % 5)], "int", "") for i in range(2000)]

META = {
    "option": "unencrypted_suffix", "value": "_unencrypted", "mac_only": 0,
    "threshold": 2,
    "groups": [
        [("age", "age1a")],
        [("age", "age1b"), ("pgp", "created_at=t\nfp=ABCD\n")],
    ],
    "scopes": [("ops", ["db", "api.key"], ["age1r", "age1s"], "K", "B")],
}

if __name__ == "__main__":
    print("full", seal(META, ITEMS))
    mac_only = dict(META, mac_only=1, scopes=[])
    print("mac_only", seal(mac_only, ITEMS))
    comment = dict(mac_only, option="encrypted_comment_regex", value="^enc")
    print("mac_only_comment_rule", seal(comment, ITEMS))
    # The MAC: SHA-512 over the values' plaintexts as sops' ToBytes gives
    # them (floats as Go prints them, bools True/False), with
    # mac_only_encrypted's SHA-256("sops") prefix.
    values = b"".join(v.encode() for v in
                      ["s3cret", "8080", "1.5", "True", "False", "x" * 20000, "0.25"])
    print("mac", hashlib.sha512(values).hexdigest().upper())
    prefix = hashlib.sha256(b"sops").digest()
    print("mac_only_encrypted", hashlib.sha512(prefix + values).hexdigest().upper())
