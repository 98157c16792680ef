"""transformers classes resolve safely from several threads at once (a fresh interpreter each time)."""
import subprocess
import sys

SCRIPT = """
import threading
from foley_studio.core.hf import transformers_classes
errors = []
def load():
    try:
        classes = transformers_classes("AutoModel", "AutoTokenizer")
        assert all(c is not None for c in classes)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=load) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print("ERRORS", errors)
raise SystemExit(1 if errors else 0)
"""


def test_three_threads_resolve_transformers_classes_together():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
