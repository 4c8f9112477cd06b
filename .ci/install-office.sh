#!/usr/bin/env bash
# Installs what tests/test_other_programs.py needs: LibreOffice Calc from Debian's
# packages, to convert the national sample into files written by another program
# (.xlsx, .ods, .xls and CSV saved by LibreOffice). Safe to run again: it installs
# only when soffice is missing.
set -euo pipefail

if ! command -v soffice >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libreoffice-calc >/dev/null
fi

soffice --version 2>/dev/null | head -1
