#!/bin/sh
export BOT_TOKEN="ndiUaW4fDYHbGN6I@@QHwYmsO49uPs2njs"
./bot
