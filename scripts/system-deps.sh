#!/usr/bin/env bash
# Installs the Debian packages that the tests need, if they are missing:
#   chromium        the real browser for the end-to-end tests (driven by Playwright)
#   fonts-noto-cjk  so that Chinese renders in that browser
#   dcmtk           echoscu/storescu, real DICOM peers for the C-STORE receiver tests
#   libpango        WeasyPrint's text layout, for the reader-study PDF report (also a runtime need)
#   poppler-utils   pdftoppm/pdftotext: the report tests rasterise and read the PDF
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
command -v storescu >/dev/null 2>&1 || missing+=(dcmtk)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || missing+=(libpangoft2-1.0-0)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
