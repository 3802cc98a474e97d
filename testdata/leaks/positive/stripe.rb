require 'stripe'
Stripe.api_key = 'sk_@@live_TvqnxSeuXwu2MVv6rjNwccin'
