#!/bin/sh
# Fake editor: exits with an error after changing the file.
echo "changed: yes" >> "$1"
exit 3
