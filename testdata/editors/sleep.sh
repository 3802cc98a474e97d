#!/bin/sh
# Fake editor: records its path in $RECORD, then sleeps to be killed.
echo "$1" > "$RECORD"
exec sleep 30
