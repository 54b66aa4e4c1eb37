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
        self.assertFalse(any(s.startswith("pb_") for s in exported))

    def test_undefined_symbols_come_from_glibc(self):
        for parts in dynsyms("--undefined-only"):
            kind, name = parts[0], parts[-1]
            if kind == "w":
                continue  # weak: optional by definition
            self.assertIn("@GLIBC_", name, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
