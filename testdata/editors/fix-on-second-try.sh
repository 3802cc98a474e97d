#!/bin/sh
# Fake editor: the first run saves invalid YAML, the second a valid change.
# Counts its runs in $RECORD.
echo run >> "$RECORD"
if [ "$(wc -l < "$RECORD")" -eq 1 ]; then
  printf 'token: [unclosed\n' > "$1"
else
  printf 'token: fixed-value\n' > "$1"
fi
