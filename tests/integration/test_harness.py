"""The harness itself: in CI a skipped test is a failure. test_forward's
tests need Node.js; run where node cannot be found, they must fail under
CI=true (not pass with all of them skipped), and be reported as skips
outside CI."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_without_node(ci):
    env = dict(os.environ, PATH=tempfile.mkdtemp(prefix="spanshim-nopath."))
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, os.path.join(HERE, "test_forward.py")], env=env,
                          capture_output=True, timeout=120)


class Harness(unittest.TestCase):
    def test_a_skip_fails_in_ci(self):
        r = run_without_node(ci=True)
        self.assertNotEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"skipped in CI: ", r.stderr)
        self.assertNotIn(b"skipped=", r.stderr)

    def test_a_skip_is_a_skip_elsewhere(self):
        r = run_without_node(ci=False)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"skipped=", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
