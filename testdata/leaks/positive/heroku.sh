#!/bin/sh
export HEROKU_API_KEY=19698076@@-d1d9-dcf6-2ef0-12450263da45
heroku apps
