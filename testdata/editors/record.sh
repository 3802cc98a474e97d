#!/bin/sh
# Fake editor: records its file's path and the modes of file and directory
# in $RECORD, then changes $EDIT_FROM to $EDIT_TO so the edit is saved.
{
  echo "$1"
  stat -c %a "$1"
  stat -c %a "$(dirname "$1")"
} > "$RECORD"
sed -i "s|$EDIT_FROM|$EDIT_TO|" "$1"
