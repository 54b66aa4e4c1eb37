"""The shim's symbol lists: it exports exactly the hooks in hooks/hooks.def
(nanopb and every internal function stay hidden), and everything it needs
comes from glibc."""
import os
import subprocess
import unittest

from harness import BUILD, LIB


def dynsyms(flag):
    out = subprocess.run(["nm", "-D", flag, LIB], capture_output=True, text=True,
                         check=True).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


class Symbols(unittest.TestCase):
    def test_exports_are_the_hooks(self):
        with open(os.path.join(BUILD, "hooks.txt")) as f:
            hooks = set(f.read().split(";"))
        exported = {parts[-1].split("@")[0] for parts in dynsyms("--defined-only")}
        self.assertEqual(exported, hooks)
        self.assertIn("__read_chk", exported)
        self.assertIn("dlopen", exported)  # RTLD_DEEPBIND libraries (hk_dl.c)
        self.assertFalse(any(s.startswith("pb_") for s in exported))

    def test_undefined_symbols_come_from_glibc(self):
        for parts in dynsyms("--undefined-only"):
            kind, name = parts[0], parts[-1]
            if kind == "w":
                continue  # weak: optional by definition
            self.assertIn("@GLIBC_", name, name)

    def test_every_libc_variant_of_a_hook_is_hooked(self):
        # glibc exports some functions under other names too: fortified
        # (__read_chk), large-file (sendfile64) and internal aliases
        # (__write). A program calling one of those must not slip past.
        libc = subprocess.run(["sh", "-c", "ldd /bin/true | awk '/libc.so/ {print $3}'"],
                              capture_output=True, text=True, check=True).stdout.strip()
        out = subprocess.run(["nm", "-D", "--defined-only", libc], capture_output=True,
                             text=True, check=True).stdout
        public = {parts[-1].split("@")[0] for parts in (l.split() for l in out.splitlines())
                  if parts and "GLIBC_PRIVATE" not in parts[-1]}
        exported = {parts[-1].split("@")[0] for parts in dynsyms("--defined-only")}
        bases = {h for h in exported if not h.startswith("_")}
        missing = []
        for b in bases:
            for v in ("__" + b, b + "64", "__" + b + "_chk", "__" + b + "64", b + "_chk",
                      "__" + b + "64_chk"):
                if v in public and v not in exported:
                    missing.append(v)
        self.assertEqual(sorted(missing), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
