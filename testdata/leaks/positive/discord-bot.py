import discord
client = discord.Client(intents=discord.Intents.default())
client.run('MTU4XyhsalCy4vxiIgvi9wa02j.sENSJ3.@@kapaXglsW_GmWlqMy6FKYn__uaaTziicvuWbyT')
