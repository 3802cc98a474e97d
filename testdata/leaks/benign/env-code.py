import os

API_KEY = os.environ["API_KEY"]
token = os.getenv("BOT_TOKEN")
password = settings.DB_PASSWORD
