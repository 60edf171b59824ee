#!/usr/bin/env bash
# Stage what `python -m qasr.training.synth` needs on a machine with Python, numpy and attrs but no
# system packages and no network (the lent GPU machine): espeak-ng from the espeakng-loader wheel.
#
#   bash scripts/stage_corpus_wheels.sh            # -> .devcarry/corpus/site (carry this folder)
#
# The wheel is downloaded for CPython 3.12 on manylinux x86_64 (it is py3-none, so any Python 3
# works) and unpacked into .devcarry/corpus/site, the folder to put on PYTHONPATH there. Only the
# English dictionary of espeak-ng's data is kept (the others are ~17 MiB the corpus never reads).
# The downloaded wheel stays in .devcarry/corpus-wheels. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

ESPEAK_WHEEL="espeakng-loader==0.2.4"  # ships libespeak-ng 1.52 and espeak-ng-data
wheels=.devcarry/corpus-wheels
site=.devcarry/corpus/site

mkdir -p "$wheels"
python3 -m pip download --quiet --no-deps --dest "$wheels" \
    --python-version 3.12 --implementation cp --only-binary=:all: \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 "$ESPEAK_WHEEL"

rm -rf "$site"
mkdir -p "$site"
python3 - "$wheels" "$site" <<'EOF'
import sys
import zipfile
from pathlib import Path

wheels, site = Path(sys.argv[1]), Path(sys.argv[2])
(wheel,) = sorted(wheels.glob("espeakng_loader-0.2.4-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for member in archive.namelist():
        name = Path(member).name
        if "/espeak-ng-data/" in member and name.endswith("_dict") and name != "en_dict":
            continue
        archive.extract(member, site)
# The library is stored three times (libespeak-ng.so, .so.1, .so.1.52.0); the loader opens
# libespeak-ng.so, so the other two copies need not travel.
for extra in ("libespeak-ng.so.1", "libespeak-ng.so.1.52.0"):
    (site / "espeakng_loader" / extra).unlink(missing_ok=True)
EOF

echo "wheels: $(du -sh "$wheels" | cut -f1) in $wheels ($(ls "$wheels" | tr '\n' ' '))"
echo "carry:  $(du -sh "$site" | cut -f1) in $site"
echo "run:    PYTHONPATH=src:$site QASR_SYNTH_BACKEND=wheel python3 -m qasr.training.synth ..."
