"""Regenerates every golden file: runs each tests/golden/gen_*.py in turn."""
import glob
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
for script in sorted(glob.glob(os.path.join(here, "gen_*.py"))):
    if os.path.basename(script) == "gen_all.py":
        continue
    print("golden:", os.path.relpath(script, root), flush=True)
    subprocess.run([sys.executable, script], check=True, cwd=root)
# the conformance suite (conformance/suite/) is golden data too
print("golden: conformance/gen_suite.py", flush=True)
subprocess.run([sys.executable, os.path.join(root, "conformance", "gen_suite.py")], check=True, cwd=root)
