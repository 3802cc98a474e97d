#!/bin/sh
# Fake editor: opens nothing, changes nothing.
exit 0
