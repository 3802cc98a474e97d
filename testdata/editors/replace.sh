#!/bin/sh
# Fake editor: replaces $EDIT_FROM by $EDIT_TO in the file (sed syntax).
sed -i "s|$EDIT_FROM|$EDIT_TO|" "$1"
