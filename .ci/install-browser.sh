#!/usr/bin/env bash
# Installs what the end-to-end browser test (tests/test_ui_browser.py) needs:
# Debian's Chromium, and Python Playwright in the project's virtual environment, whose
# bundled driver runs that Chromium (executablePath=/usr/bin/chromium).
#
# Never runs `playwright install`: browser downloads are not allowed here; Debian's
# package is the browser. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="$VENV/bin/python"

if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi

if [ ! -x "$PYTHON" ]; then  # before `make` has made it; make keeps and fills this one
    "${BASE_PYTHON:-python3}" -m venv "$VENV"
fi
if ! "$PYTHON" -c "import playwright" 2>/dev/null; then
    "$PYTHON" -m pip install --quiet "playwright>=1.40"
fi

/usr/bin/chromium --version 2>/dev/null | head -1
"$PYTHON" -c "from importlib.metadata import version; print('playwright', version('playwright'))"
