"""Record files for the data-check scripts beside this one: JSON lines, plain or zstd (.zst)."""
import json
import subprocess


def records(path):
    """Every record of a JSON-lines file, in order."""
    if path.endswith(".zst"):
        text = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True, text=True).stdout
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return [json.loads(line) for line in text.splitlines() if line.strip()]
