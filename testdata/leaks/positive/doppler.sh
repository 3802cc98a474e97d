#!/bin/sh
export DOPPLER_TOKEN=dp.@@st.1H7Y0R2OrVeESVU3H5lEc9vTycYLTdRSKNnqwsAKeSN
doppler run -- ./bot
