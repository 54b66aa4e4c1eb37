"""The shim's folders depend on each other one way only:

    hooks/ -> preload/ -> exporter/

Every quoted #include of every file under hooks/, preload/ and exporter/
is resolved the way the compiler does (next to the file, else on the
include path) and checked against what its folder may include:

    hooks/     hooks/, preload/ (the exporter only through preload)
    preload/   preload/, exporter/, and hooks/hooks.def, the table the
               real-function table is generated from
    exporter/  exporter/, and the records it encodes: preload/ss_span.h and
               preload/ss_logrec.h, and what they include of preload/ (everything else
               it needs of its host it is handed at start, exporter/ex_host.h)

usage: layers.py [SOURCE_DIR]   (default: the checkout this file is in)
Exit status 1, with one line per include that breaks the rule."""
import os
import re
import sys

FOLDERS = ("hooks", "preload", "exporter")
EXTRA = {
    "preload": " and hooks/hooks.def",
    "exporter": " and the records (preload/ss_span.h, preload/ss_logrec.h and their own includes)",
}
ALLOWED = {
    "hooks": ("hooks", "preload"),
    "preload": ("preload", "exporter"),
    "exporter": ("exporter",),
}
PRELOAD_MAY_INCLUDE = ("hooks/hooks.def",)
RECORDS = ("preload/ss_span.h", "preload/ss_logrec.h")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for top in FOLDERS:
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".c", ".h", ".def")):
                    yield os.path.relpath(os.path.join(d, n), root)


def includes(root, rel, every):
    """(line number, the included file relative to root) of each quoted
    include that names a file of the tree (generated headers do not)."""
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        text = f.read()
    for m in INCLUDE.finditer(text):
        name = m.group(1)
        line = text.count("\n", 0, m.start()) + 1
        here = os.path.normpath(os.path.join(os.path.dirname(rel), name))
        if here in every:
            yield line, here
            continue
        # Not next to the file: found on the include path, wherever it is.
        found = [p for p in every if p == name or p.endswith("/" + name)]
        if found:
            yield line, found[0]


def span_records(root, every):
    """The record headers and the preload headers they are made of, transitively."""
    records, todo = set(), list(RECORDS)
    while todo:
        rel = todo.pop()
        if rel in records or rel not in every:
            continue
        records.add(rel)
        todo += [inc for _, inc in includes(root, rel, every) if inc.startswith("preload/")]
    return records


def violations(root):
    every = set(sources(root))
    records = span_records(root, every)
    for rel in sorted(every):
        folder = rel.split("/")[0]
        for line, inc in includes(root, rel, every):
            if inc.split("/")[0] in ALLOWED[folder]:
                continue
            if folder == "preload" and inc in PRELOAD_MAY_INCLUDE:
                continue
            if folder == "exporter" and inc in records:
                continue
            yield "%s:%d includes %s: %s/ may include only %s%s" % (
                rel, line, inc, folder, ", ".join(d + "/" for d in ALLOWED[folder]),
                EXTRA.get(folder, ""))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    if not os.path.isdir(os.path.join(root, "preload")):
        sys.exit("layers.py: no preload/ in %s" % root)
    bad = list(violations(root))
    for v in bad:
        print(v)
    print("%d include%s against the layering" % (len(bad), "" if len(bad) == 1 else "s"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
