#!/usr/bin/env bash
# Remakes the pictures README.md shows (docs/img): the terminal walkthrough as an SVG of
# its screen, a figure for documents, and the web player as headless Chromium draws it,
# all from the built-in scenario ikev2-ping. TestREADMEPictures (cmd/ikesim) fails when
# one of them is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./cmd/ikesim -run '^TestREADMEPictures$' -count=1 -update-pictures
go test ./cmd/ikesim -run '^TestREADMEPictures$' -count=1
