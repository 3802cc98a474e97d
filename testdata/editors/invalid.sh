#!/bin/sh
# Fake editor: saves text that is not valid YAML/JSON/TOML/dotenv/INI.
printf 'a: [unclosed\n{"x":\n= broken\n' > "$1"
