#!/usr/bin/env bash
# Reproduce the smoke-scale results and build paper/build/main.pdf (what CI runs).
#   bash paper/build.sh                 # smoke results, then the PDF
#   SCALE=full bash paper/build.sh      # full scale (uses runs/reference/full when present)
#   SKIP_REPRODUCE=1 bash paper/build.sh  # only the PDF, from the figures/tables already there
# Needs pdflatex and bibtex (Debian: texlive-latex-base texlive-latex-recommended
# texlive-fonts-recommended); a LaTeX error fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
SCALE="${SCALE:-smoke}"
export OMP_NUM_THREADS=1
if [ -z "${SKIP_REPRODUCE:-}" ]; then
    "$PY" -m hyperpilot.paper reproduce --scale "$SCALE"
fi
mkdir -p paper/build
cd paper
run_latex() { pdflatex -interaction=nonstopmode -halt-on-error -output-directory=build main.tex >build/pdflatex.log 2>&1 \
    || { tail -40 build/pdflatex.log; echo "paper/build.sh: pdflatex failed (paper/build/pdflatex.log)" >&2; exit 1; }; }
run_latex
BIBINPUTS=.: bibtex build/main >build/bibtex.log 2>&1 \
    || { cat build/bibtex.log; echo "paper/build.sh: bibtex failed" >&2; exit 1; }
run_latex
run_latex
if grep -q "undefined" build/main.log; then
    grep "undefined" build/main.log >&2
    echo "paper/build.sh: undefined references or citations" >&2
    exit 1
fi
# a table or a line wider than the text block runs into the margin, or off the page, in print
wide=$(grep -o 'Overfull \\hbox ([0-9.]*pt too wide) in [a-z]* at lines [0-9-]*' build/main.log \
    | awk '{ w = $3; sub(/^\(/, "", w); sub(/pt$/, "", w); if (w + 0 > 2) print }' || true)
if [ -n "$wide" ]; then
    echo "$wide" >&2
    echo "paper/build.sh: text or tables wider than the page's text block (paper/build/main.log)" >&2
    exit 1
fi
echo "paper/build/main.pdf: $(grep -o "Output written on build/main.pdf ([0-9]* pages" build/main.log | grep -o "[0-9]* pages")"
