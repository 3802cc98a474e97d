import requests

TOKEN = 'gh@@p_n9BVo47uUbZ5bIIy9wjjnEZk31NAEqgqVuOZ'
requests.get('https://api.github.com/user', headers={'Authorization': 'token ' + TOKEN})
