ShopifyAPI::Context.setup(api_key: 'app', api_secret_key: 'shp@@ss_92b3ee170dfca524661d4bda022150e7')
